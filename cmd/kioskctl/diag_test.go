package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.bug.st/serial/enumerator"

	"github.com/campuspos/kiosk/cmd/internal/syncbuf"
	"github.com/campuspos/kiosk/device"
	"github.com/campuspos/kiosk/device/hid"
	"github.com/campuspos/kiosk/device/hid/hidtest"
)

// diag runs kioskctl without any configuration: no --config, no
// $KIOSK_CONFIG, and the default path does not exist on a test machine.
func diag(t *testing.T, stderr *syncbuf.Buffer, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	if stderr == nil {
		stderr = &syncbuf.Buffer{}
	}
	code := run(context.Background(), args, &out, stderr, func(string) string { return "" })
	return code, out.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// A card reader's session: a card, noise, a card in two reads.
const serialCapture = `# card reader, CR LF frames
0 30 30 31 32 33 34 35 36 37 38 0d 0a
900 00 ff 0d 0a
2000 39 39
2003 39 39 0d 0a
`

func TestDiagScanReplayJSONWithoutConfig(t *testing.T) {
	_, err := os.Stat(DefaultConfig)
	require.True(t, os.IsNotExist(err), "the test needs a machine without %s", DefaultConfig)
	file := writeFile(t, "cap.txt", serialCapture)
	spec := "replay:" + file + "?as=serial&frame=crlf&speed=fast"
	code, out := diag(t, nil, "--json", "diag", "scan", "--device", spec)
	require.Equal(t, exitOK, code, out)
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var obj map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &obj), sc.Text())
		lines = append(lines, obj)
	}
	require.Len(t, lines, 3)
	assert.Equal(t, map[string]any{"device": spec, "kind": "card", "text": "0012345678", "time": lines[0]["time"]}, lines[0])
	assert.Equal(t, "binary noise: control byte 0x00 in frame", lines[1]["dropped"])
	assert.Equal(t, "9999", lines[2]["text"])
	t0, err := time.Parse(time.RFC3339Nano, lines[0]["time"].(string))
	require.NoError(t, err)
	t2, err := time.Parse(time.RFC3339Nano, lines[2]["time"].(string))
	require.NoError(t, err)
	assert.Equal(t, 2003*time.Millisecond, t2.Sub(t0), "recorded times, even at fast speed")

	// Text mode, and asking for more scans than the capture has.
	code, out = diag(t, nil, "diag", "scan", "--device", spec, "--count", "3")
	assert.Equal(t, exitDeclined, code)
	assert.Contains(t, out, " card 0012345678\n")
	assert.Contains(t, out, "dropped (4 bytes): binary noise")
}

func TestDiagScanPTY(t *testing.T) {
	master, slave, err := pty.Open()
	require.NoError(t, err)
	defer master.Close()
	path := slave.Name()
	require.NoError(t, slave.Close())
	stderr := &syncbuf.Buffer{}
	done := make(chan struct{})
	var code int
	var out string
	go func() {
		defer close(done)
		code, out = diag(t, stderr, "diag", "scan", "--device", "serial:"+path+"?baud=115200&frame=cr&kind=barcode", "--count", "1", "--timeout", "10s")
	}()
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "connected: "+path) }, 10*time.Second, time.Millisecond)
	_, err = master.Write([]byte("QR-123\r"))
	require.NoError(t, err)
	<-done
	assert.Equal(t, exitOK, code, stderr.String())
	assert.Contains(t, out, " barcode QR-123\n")
}

func TestDiagCaptureReplay(t *testing.T) {
	file := writeFile(t, "cap.txt", serialCapture)
	out := filepath.Join(t.TempDir(), "again.txt")
	code, text := diag(t, nil, "--json", "diag", "capture", "--device", "replay:"+file+"?speed=fast", "--out", out)
	require.Equal(t, exitOK, code, text)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &obj))
	assert.EqualValues(t, 4, obj["reads"])
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(b), "# campus-kiosk capture")
	assert.Contains(t, string(b), "\n2003 39 39 0d 0a\n")
	fi, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestDiagDevices(t *testing.T) {
	code, out := diag(t, nil, "--json", "diag", "devices")
	require.Equal(t, exitOK, code, out)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &obj))
	assert.Contains(t, obj, "serial")
	assert.Contains(t, obj, "hid")
	code, out = diag(t, nil, "diag", "devices")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "serial ports:")
	assert.Contains(t, out, "HID devices:")
}

// A composite scanner as Linux lists it (usage page 0 on both
// interfaces) next to a single-interface one: the technician reads each
// entry's interface number, and the composite's specs carry it.
func TestDiagDevicesInterfaces(t *testing.T) {
	noPorts := func(...func(vid, pid string) bool) ([]*enumerator.PortDetails, error) { return nil, nil }
	b := hidtest.New()
	b.Add(hid.Info{Path: "1-4:1.0", VendorID: 0x0c2e, ProductID: 0x0b61, Serial: "S1", Product: "Xenon", Interface: 0})
	b.Add(hid.Info{Path: "1-4:1.1", VendorID: 0x0c2e, ProductID: 0x0b61, Serial: "S1", Product: "Xenon", Interface: 1})
	b.Add(hid.Info{Path: "1-5:1.0", VendorID: 0x0c2e, ProductID: 0x0b61, Serial: "S2", UsagePage: 0x8c, Usage: 0x02, Product: "Xenon", Interface: 0})
	b.Add(hid.Info{Path: "bt-0", VendorID: 0x05e0, ProductID: 0x1200, Interface: -1})
	res := diagDevices(noPorts, b)

	lines := strings.Split(res.text, "\n")
	require.GreaterOrEqual(t, len(lines), 7, res.text)
	assert.Equal(t, "HID devices:", lines[2])
	assert.Equal(t, []string{"PATH", "USB", "USAGE", "PAGE", "USAGE", "INTERFACE", "SERIAL", "PRODUCT", "SPEC"}, strings.Fields(lines[3]))
	assert.Equal(t, []string{"1-4:1.0", "0c2e:0b61", "0x00", "0x00", "0", "S1", "Xenon", "hid-keyboard:0c2e:0b61?serial=S1&interface=0"}, strings.Fields(lines[4]))
	assert.Equal(t, []string{"1-4:1.1", "0c2e:0b61", "0x00", "0x00", "1", "S1", "Xenon", "hid-keyboard:0c2e:0b61?serial=S1&interface=1"}, strings.Fields(lines[5]))
	assert.Equal(t, []string{"1-5:1.0", "0c2e:0b61", "0x8C", "0x02", "0", "S2", "Xenon", "hid-pos:0c2e:0b61?serial=S2"}, strings.Fields(lines[6]),
		"one interface: the spec needs no interface=")
	assert.Equal(t, []string{"bt-0", "05e0:1200", "0x00", "0x00", "-", "-", "-", "hid-keyboard:05e0:1200"}, strings.Fields(lines[7]),
		"no interface number: not a USB device")
	assert.Contains(t, res.text, "try hid-pos and hid-keyboard on each interface with diag scan", "the type of an interface without usage page is a guess")
	for _, l := range lines[4:6] {
		spec := strings.Fields(l)[7]
		_, err := device.ParseSpec("diag", spec)
		assert.NoError(t, err, "the listed spec parses: %s", spec)
	}

	out, err := json.Marshal(res.obj)
	require.NoError(t, err)
	var obj struct {
		HID []struct {
			Path      string `json:"path"`
			Interface int    `json:"interface"`
			Spec      string `json:"spec"`
		} `json:"hid"`
	}
	require.NoError(t, json.Unmarshal(out, &obj))
	require.Len(t, obj.HID, 4)
	assert.Equal(t, 1, obj.HID[1].Interface)
	assert.Equal(t, "hid-keyboard:0c2e:0b61?serial=S1&interface=1", obj.HID[1].Spec)
	assert.Equal(t, -1, obj.HID[3].Interface)
}

func TestDiagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"diag"}, exitUsage, "diag needs one of"},
		{[]string{"diag", "sniff"}, exitUsage, `diag "sniff"`},
		{[]string{"diag", "scan"}, exitUsage, "--device is required"},
		{[]string{"diag", "scan", "--device", "front-reader"}, exitUsage, "needs the configuration"},
		{[]string{"diag", "scan", "--device", "serial:/dev/x?baud=fast"}, exitUsage, `baud "fast"`},
		{[]string{"diag", "scan", "--device", "keyboard:", "--out", "x"}, exitUsage, "does not take --out"},
		{[]string{"diag", "capture", "--device", "keyboard:"}, exitUsage, "needs --out"},
		{[]string{"diag", "scan", "--device", "keyboard:"}, exitUsage, "typed into the kiosk window"},
		{[]string{"diag", "capture", "--device", "keyboard:", "--out", filepath.Join(t.TempDir(), "k")}, exitDeclined, "no device to capture"},
		{[]string{"diag", "scan", "--device", "serial:/nonexistent/ttyUSB0", "--count", "1", "--timeout", "300ms"}, exitDeclined, "timeout after 300ms: 0 of 1 scans"},
	} {
		stderr := &syncbuf.Buffer{}
		code, _ := diag(t, stderr, tt.args...)
		assert.Equal(t, tt.code, code, "%v: %s", tt.args, stderr.String())
		assert.Contains(t, stderr.String(), tt.want, tt.args)
	}
}

// A configured device is found by its name.
func TestDiagScanByName(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Dir(e.config)
	capture := filepath.Join(dir, "reader.txt")
	require.NoError(t, os.WriteFile(capture, []byte("0 "+hex.EncodeToString([]byte("3197650001\r\n"))+"\n"), 0o600))
	f, err := os.OpenFile(e.config, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, "devices:\n  - name: front-reader\n    spec: \"replay:%s?as=serial&frame=crlf&speed=fast&kind=card\"\n", capture)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	code, out, stderr := e.kioskctl(t, "--json", "diag", "scan", "--device", "front-reader", "--count", "1")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, out, `"text":"3197650001"`)
	assert.Contains(t, out, `"device":"front-reader"`)

	code, _, stderr = e.kioskctl(t, "diag", "scan", "--device", "back-reader")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "no such device")
}
