package hid_test

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/device/hid"
)

// readCapture reads a capture file: one report a line as "<ms> <hex>",
// with "#" comment lines and blank lines skipped (spaces inside the hex
// are allowed).
func readCapture(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var reports [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		require.GreaterOrEqual(t, len(fields), 2, "%s:%d: %q", path, n, line)
		b, err := hex.DecodeString(strings.Join(fields[1:], ""))
		require.NoError(t, err, "%s:%d", path, n)
		reports = append(reports, b)
	}
	require.NoError(t, sc.Err())
	return reports
}

// kb builds a boot-keyboard report: modifier, reserved, then up to six
// key slots.
func kb(mod byte, keys ...byte) []byte {
	r := make([]byte, 8)
	r[0] = mod
	copy(r[2:], keys)
	return r
}

// typed builds the press/release reports that type s on a US layout, the
// way a scanner does: shift in the key's report, a release after each key.
func typed(t testing.TB, s string) [][]byte {
	t.Helper()
	l := hid.USLayout()
	var reports [][]byte
	for _, c := range s {
		var (
			usage byte
			mod   byte
			found bool
		)
		for u := 0; u < 256 && !found; u++ {
			switch {
			case l.Normal[byte(u)] == c:
				usage, found = byte(u), true
			case l.Shifted[byte(u)] == c:
				usage, mod, found = byte(u), 0x02, true
			}
		}
		switch c {
		case '\n':
			usage, found = 0x28, true
		case '\t':
			usage, found = 0x2B, true
		}
		require.True(t, found, "no key for %q", c)
		reports = append(reports, kb(mod, usage), kb(0))
	}
	return reports
}

func feedKeyboard(d *hid.KeyboardDecoder, reports [][]byte) (texts []string, drops []hid.Drop) {
	for _, r := range reports {
		tx, dr := d.Feed(r)
		texts = append(texts, tx...)
		drops = append(drops, dr...)
	}
	return texts, drops
}

func feedPOS(d *hid.POSDecoder, reports [][]byte) (scans []hid.POSScan, drops []hid.Drop) {
	for _, r := range reports {
		sc, dr := d.Feed(r)
		scans = append(scans, sc...)
		drops = append(drops, dr...)
	}
	return scans, drops
}

// reasons lists the drops' reasons, for messages and matching.
func reasons(drops []hid.Drop) []string {
	var rs []string
	for _, d := range drops {
		rs = append(rs, d.Reason)
	}
	return rs
}
