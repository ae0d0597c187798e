package fontsubset

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/go-text/typesetting/font"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// testFonts are the fonts every run cuts: a CID-keyed CFF font with
// subroutines and eight font dicts (cut from Noto Sans CJK SC), a
// name-keyed CFF font built from it, and a TrueType font (the ui tests'
// Droid Sans Fallback subset).
var testFonts = []struct{ name, path string }{
	{"CFF CID-keyed", "testdata/NotoSansCJKsc-test.otf"},
	{"CFF name-keyed", "testdata/NameKeyed-test.otf"},
	{"TrueType", "../testdata/font/DroidSansFallback-subset.ttf"},
}

// systemFonts are cut too where the machine has them (make deps installs
// the first): the fonts the kiosk looks for.
var systemFonts = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
}

const sample = "中文支付成功余额卡号套餐确认取消请刷校园一二三元，。：（）¥ A"

// gb2312 is every character of GB 2312.
func gb2312(t testing.TB) []rune {
	var raw []byte
	for b1 := 0xa1; b1 <= 0xf7; b1++ {
		for b2 := 0xa1; b2 <= 0xfe; b2++ {
			raw = append(raw, byte(b1), byte(b2))
		}
	}
	s, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
	require.NoError(t, err)
	var out []rune
	for _, r := range string(s) {
		if r != '\uFFFD' {
			out = append(out, r)
		}
	}
	return out
}

// sameGlyphs checks that every character cut draws as in the source: the
// same outline, the same advance.
func sameGlyphs(t *testing.T, src *font.Face, cut Font, runes []rune) {
	t.Helper()
	dst, err := font.ParseTTF(bytes.NewReader(cut.Data))
	require.NoError(t, err, "go-text parses the cut font")
	checked := 0
	for _, r := range runes {
		og, ok := src.NominalGlyph(r)
		ng, nok := dst.NominalGlyph(r)
		if !ok || og == 0 {
			assert.False(t, nok, "U+%04X: not in the source, not in the cut", r)
			continue
		}
		require.True(t, nok, "U+%04X kept", r)
		assert.Equal(t, src.HorizontalAdvance(og), dst.HorizontalAdvance(ng), "U+%04X advance", r)
		if !reflect.DeepEqual(src.GlyphData(og), dst.GlyphData(ng)) {
			t.Errorf("U+%04X: the outline differs (glyph %d, was %d)", r, ng, og)
		}
		checked++
	}
	assert.Positive(t, checked)
	assert.Equal(t, checked, len(cut.Runes))
	se, _ := src.FontHExtents()
	de, _ := dst.FontHExtents()
	assert.Equal(t, se, de, "line metrics")
}

func TestCutKeepsOutlinesAndMetrics(t *testing.T) {
	for _, tc := range testFonts {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(tc.path)
			require.NoError(t, err)
			src, err := font.ParseTTF(bytes.NewReader(data))
			require.NoError(t, err)
			runes := []rune(sample + "𠀀") // and one no test font has
			cut, err := Cut(data, Request{Runes: runes})
			require.NoError(t, err)
			sameGlyphs(t, src, cut, runes)
			assert.Less(t, len(cut.Data), len(data))
		})
	}
}

func TestCutSystemFonts(t *testing.T) {
	var found bool
	for _, path := range systemFonts {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		found = true
		t.Run(path, func(t *testing.T) {
			faces, err := font.ParseTTC(bytes.NewReader(data))
			require.NoError(t, err)
			idx := 0 // a collection's first Simplified Chinese face, as the kiosk's
			for i := len(faces) - 1; i >= 0; i-- {
				if strings.HasSuffix(faces[i].Describe().Family, " SC") {
					idx = i
				}
			}
			runes := gb2312(t)
			cut, err := Cut(data, Request{Face: idx, Runes: runes})
			require.NoError(t, err)
			sameGlyphs(t, faces[idx], cut, runes)
			t.Logf("face %d: %d of %d characters, %d glyphs, %d bytes (of %d)", idx, len(cut.Runes), len(runes), cut.Glyphs, len(cut.Data), len(data))
		})
	}
	if !found {
		t.Log("no system Chinese font here: make deps installs fonts-noto-cjk")
	}
}

func TestCutReplacesTables(t *testing.T) {
	data, err := os.ReadFile(testFonts[0].path)
	require.NoError(t, err)
	tb, err := Tables(data, 0)
	require.NoError(t, err)
	hhea := bytes.Clone(tb["hhea"])
	hhea[4], hhea[5] = 0x03, 0xe8 // ascender 1000
	cut, err := Cut(data, Request{Runes: []rune("中"), Replace: map[string][]byte{"hhea": hhea}})
	require.NoError(t, err)
	got, err := Tables(cut.Data, 0)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x03, 0xe8}, got["hhea"][4:6])
	assert.Equal(t, uint16(2), be.Uint16(got["hhea"][34:]), "numberOfHMetrics: .notdef and 中")
	assert.NotEqual(t, uint16(2), be.Uint16(hhea[34:]), "the caller's table is not changed")
}

func TestBadFonts(t *testing.T) {
	data, err := os.ReadFile(testFonts[0].path)
	require.NoError(t, err)
	tb, err := Tables(data, 0)
	require.NoError(t, err)
	cffAt := bytes.Index(data, tb["CFF "])
	for name, b := range map[string][]byte{
		"empty":          nil,
		"not a font":     []byte("this is not a font at all"),
		"truncated":      data[:len(data)/2],
		"no face 1":      data, // Request.Face 1 below
		"CFF garbage":    append(append(bytes.Clone(data[:cffAt]), bytes.Repeat([]byte{0xff}, len(tb["CFF "]))...), data[cffAt+len(tb["CFF "]):]...),
		"collection bad": []byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x09"),
	} {
		face := 0
		if name == "no face 1" {
			face = 1
		}
		_, err := Cut(b, Request{Face: face, Runes: []rune(sample)})
		var fe *FormatError
		assert.True(t, errors.As(err, &fe), "%s: %v", name, err)
	}
}

func FuzzCut(f *testing.F) {
	for _, tc := range testFonts {
		data, err := os.ReadFile(tc.path)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cut, err := Cut(data, Request{Runes: []rune(sample)})
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("not a FormatError: %v", err)
			}
			return
		}
		if _, err := Tables(cut.Data, 0); err != nil {
			t.Fatalf("cut font unreadable: %v", err)
		}
	})
}

// subrCount counts a cut CFF font's global and local subroutines.
func subrCount(t *testing.T, data []byte) (globals, locals int) {
	t.Helper()
	tb, err := Tables(data, 0)
	require.NoError(t, err)
	b := tb["CFF "]
	_, end, err := readIndex(b, int(b[2]))
	require.NoError(t, err)
	tops, end, err := readIndex(b, end)
	require.NoError(t, err)
	_, end, err = readIndex(b, end)
	require.NoError(t, err)
	g, _, err := readIndex(b, end)
	require.NoError(t, err)
	top, err := parseDict(tops[0])
	require.NoError(t, err)
	arrOff, err := operands(top, opFDArray, 1, "FDArray")
	require.NoError(t, err)
	arr, _, err := readIndex(b, arrOff[0])
	require.NoError(t, err)
	for _, raw := range arr {
		d, err := parseDict(raw)
		require.NoError(t, err)
		so, err := operands(d, opPrivate, 2, "Private")
		require.NoError(t, err)
		p, err := readPrivate(b, so)
		require.NoError(t, err)
		locals += len(p.subrs)
	}
	return len(g), locals
}

func TestCutPrunesSubroutines(t *testing.T) {
	data, err := os.ReadFile(testFonts[0].path)
	require.NoError(t, err)
	g0, l0 := subrCount(t, data)
	require.Positive(t, l0, "the test font has local subroutines")
	cut, err := Cut(data, Request{Runes: []rune("中")})
	require.NoError(t, err)
	g1, l1 := subrCount(t, cut.Data)
	assert.Less(t, g1+l1, g0+l0, "only the subroutines 中 calls are kept")
	src, err := font.ParseTTF(bytes.NewReader(data))
	require.NoError(t, err)
	sameGlyphs(t, src, cut, []rune("中"))
}
