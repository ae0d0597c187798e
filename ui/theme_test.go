package ui

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// TestTestFontCoversTheCatalogue checks that every character the screens
// and tests show is in the test font or in Fyne's own: otherwise Fyne
// would take it from a system font and the reference images would differ
// from machine to machine.
func TestTestFontCoversTheCatalogue(t *testing.T) {
	data, err := os.ReadFile(testFont)
	require.NoError(t, err)
	subset, err := font.ParseTTF(bytes.NewReader(data))
	require.NoError(t, err)
	fyneFont, err := font.ParseTTF(bytes.NewReader(theme.DefaultTextFont().Content()))
	require.NoError(t, err)

	// A space after Chinese text is shaped with the Chinese font: it must
	// be there (Droid Sans Fallback has no Latin, which Fyne's font gives).
	all := " "
	for _, lang := range []string{langZH, langEN} {
		for _, s := range catalogue(lang) {
			all += s
		}
	}
	for _, it := range testMenu() {
		all += it.Name
	}
	for _, c := range sim.DemoCards() {
		all += c.Name
	}
	missing := map[rune]bool{}
	for _, r := range all {
		_, inSubset := subset.NominalGlyph(r)
		_, inFyne := fyneFont.NominalGlyph(r)
		if !inSubset && (!inFyne || r == ' ') {
			missing[r] = true
		}
	}
	if len(missing) > 0 {
		var rs []rune
		for r := range missing {
			rs = append(rs, r)
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
		t.Errorf("the test font lacks %q: cut it again as testdata/font/README.md says", string(rs))
	}
}

// ttcOf wraps a single font into a two-face collection, both faces the
// same font, as a .ttc file is laid out.
func ttcOf(t *testing.T, ttf []byte) []byte {
	t.Helper()
	const hdr = 12 + 2*4
	out := make([]byte, hdr, hdr+len(ttf))
	copy(out, "ttcf")
	binary.BigEndian.PutUint32(out[4:], 0x00010000)
	binary.BigEndian.PutUint32(out[8:], 2)
	binary.BigEndian.PutUint32(out[12:], hdr)
	binary.BigEndian.PutUint32(out[16:], hdr)
	out = append(out, ttf...)
	// Table offsets in a collection count from the file's start.
	n := int(binary.BigEndian.Uint16(out[hdr+4:]))
	for i := range n {
		rec := hdr + 12 + 16*i + 8
		binary.BigEndian.PutUint32(out[rec:], binary.BigEndian.Uint32(out[rec:])+hdr)
	}
	return out
}

func TestFontLoading(t *testing.T) {
	ttf, err := os.ReadFile(testFont)
	require.NoError(t, err)
	dir := t.TempDir()

	t.Run("a face of a collection", func(t *testing.T) {
		path := filepath.Join(dir, "cjk.ttc")
		require.NoError(t, os.WriteFile(path, ttcOf(t, ttf), 0o644))
		res, warnings := loadCJKFont(path, nil)
		assert.Empty(t, warnings)
		require.NotNil(t, res)
		face, err := font.ParseTTF(bytes.NewReader(res.Content()))
		require.NoError(t, err, "the face copied out is a font of its own")
		_, ok := face.NominalGlyph('张')
		assert.True(t, ok)
	})
	t.Run("the first system path that works", func(t *testing.T) {
		noCJK := filepath.Join(dir, "latin.ttf")
		require.NoError(t, os.WriteFile(noCJK, theme.DefaultTextFont().Content(), 0o644))
		res, warnings := loadCJKFont("", []string{filepath.Join(dir, "absent.ttc"), noCJK, testFont})
		require.NotNil(t, res)
		require.Len(t, warnings, 1)
		assert.Contains(t, warnings[0], "has no Chinese characters")
	})
	t.Run("none: a warning, and Fyne's font", func(t *testing.T) {
		res, warnings := loadCJKFont(filepath.Join(dir, "absent.ttf"), nil)
		assert.Nil(t, res)
		require.Len(t, warnings, 2)
		assert.Contains(t, warnings[0], "absent.ttf")
		assert.Contains(t, warnings[1], "no Chinese font found")

		r := newRig(t)
		k, err := New(test.NewTempApp(t), Deps{Agent: r.Service}, Options{fontPaths: []string{}})
		require.NoError(t, err)
		assert.Len(t, k.Warnings(), 1)
		k.setLang(langEN)
		assert.Equal(t, "ZH", k.bar.lang.Text, "not two boxes for 中文")
		assert.Equal(t, theme.DefaultTheme().Font(fyne.TextStyle{}), k.app.Settings().Theme().Font(fyne.TextStyle{}),
			"Fyne's own font stands in")
	})
}
