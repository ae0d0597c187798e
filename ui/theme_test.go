package ui

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/font"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/agenttest"
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
		f, warnings := loadCJKFont(path, nil, nil)
		assert.Empty(t, warnings)
		require.NotNil(t, f.res)
		face, err := font.ParseTTF(bytes.NewReader(f.res.Content()))
		require.NoError(t, err, "the face copied out is a font of its own")
		_, ok := face.NominalGlyph('张')
		assert.True(t, ok)
		assert.True(t, f.has('张'), "what is checked is the font given to Fyne")
		assert.False(t, f.has('A'), "Latin is left to Fyne's fonts")
	})
	t.Run("the first system path that works", func(t *testing.T) {
		noCJK := filepath.Join(dir, "latin.ttf")
		require.NoError(t, os.WriteFile(noCJK, theme.DefaultTextFont().Content(), 0o644))
		f, warnings := loadCJKFont("", []string{filepath.Join(dir, "absent.ttc"), noCJK, testFont}, nil)
		require.NotNil(t, f.res)
		require.Len(t, warnings, 1)
		assert.Contains(t, warnings[0], "has no Chinese characters")
	})
	t.Run("not a font", func(t *testing.T) {
		junk := filepath.Join(dir, "junk.ttf")
		require.NoError(t, os.WriteFile(junk, []byte("ttcf and then nothing"), 0o644))
		f, warnings := loadCJKFont(junk, nil, nil)
		assert.Nil(t, f.res)
		require.Len(t, warnings, 2)
		assert.Contains(t, warnings[0], "not a font Fyne can read")
	})
	t.Run("none: warnings, Fyne's font, and the missing characters", func(t *testing.T) {
		f, warnings := loadCJKFont(filepath.Join(dir, "absent.ttf"), nil, nil)
		assert.Nil(t, f.res)
		require.Len(t, warnings, 2)
		assert.Contains(t, warnings[0], "absent.ttf")
		assert.Contains(t, warnings[1], "no Chinese font found")

		r := newRig(t)
		k, err := New(test.NewTempApp(t), Deps{Agent: r.Service},
			Options{Lang: langEN, Menu: []MenuItem{{Name: "Coffee", Price: 5_00}}, fontPaths: []string{}})
		require.NoError(t, err)
		// English, with an English menu: the 中文 toggle still leads to
		// the Chinese screens, which would be boxes.
		missing := k.MissingGlyphs()
		assert.Contains(t, missing, "请", "the Chinese catalogue's characters")
		assert.NotContains(t, missing, "C", "Fyne's font has Latin")
		require.Len(t, k.Warnings(), 2)
		assert.Contains(t, k.Warnings()[0], "no Chinese font found")
		assert.Regexp(t, `^Font: no loaded font has \d+ characters \(. U\+[0-9A-F]{4}, `, k.Warnings()[1])
		assert.Equal(t, "ZH", k.bar.lang.Text, "not two boxes for 中文")
		assert.Equal(t, theme.DefaultTheme().Font(fyne.TextStyle{}), k.app.Settings().Theme().Font(fyne.TextStyle{}),
			"Fyne's own font stands in")

		// Diagnostics says so, in Latin letters in either language.
		for _, lang := range []string{langEN, langZH} {
			k.setLang(lang)
			info := container.NewVBox()
			k.diagSections(info)
			k.spinner.Stop()
			var found bool
			for _, o := range info.Objects {
				if l, ok := o.(*widget.Label); ok && l.Text == k.Warnings()[1] {
					found = true
					assert.Equal(t, widget.DangerImportance, l.Importance)
				}
			}
			assert.True(t, found, "%s: diagnostics names the missing characters", lang)
		}
	})
}

// The CJK font leaves to Fyne's fonts every character they have, and keeps
// its spaces: Latin text is drawn with Fyne's font of its style.
func TestThemeFontLeavesLatinToFyne(t *testing.T) {
	f, warnings := loadCJKFont(testFont, nil, []string{"张三套餐：，（）"})
	require.Empty(t, warnings)
	th := &kioskTheme{cjk: f.res}
	for _, style := range []fyne.TextStyle{{}, {Bold: true}, {Italic: true}} {
		first := parseFont(t, th.Font(style))
		for _, r := range "张三套餐：，（）" {
			_, ok := first.NominalGlyph(r)
			assert.True(t, ok, "%+v: %c from the CJK font", style, r)
		}
		_, ok := first.NominalGlyph(' ')
		assert.True(t, ok, "a space stays with the CJK font")
	}
	for _, style := range []fyne.TextStyle{{Monospace: true}, {Symbol: true}} {
		assert.Equal(t, theme.DefaultTheme().Font(style), th.Font(style), "%+v: Fyne's", style)
	}

	// What the CJK font maps: none of Fyne's characters but spaces.
	cjk := parseFont(t, f.res)
	fyneFonts := fyneTextFonts()
	require.Contains(t, fyneFonts.runes, 'A')
	for it := cjk.Cmap.Iter(); it.Next(); {
		r, _ := it.Char()
		if fyneFonts.runes[r] {
			assert.True(t, unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf), "%q is left to Fyne's fonts", r)
		}
	}

	// Its line: Fyne's ascender, and the lower descender of the two.
	ems := func(f *font.Face) (float64, float64) {
		e, ok := f.FontHExtents()
		require.True(t, ok)
		return float64(e.Ascender) / float64(f.Upem()), float64(e.Descender) / float64(f.Upem())
	}
	fyneAscent, fyneDescent := ems(parseFont(t, theme.DefaultTextBoldFont()))
	assert.Equal(t, fyneFonts.ascent, fyneAscent)
	assert.Equal(t, fyneFonts.descent, fyneDescent)
	ascent, descent := ems(cjk)
	_, ownDescent := ems(parseFont(t, fyne.NewStaticResource("subset.ttf", ttfData(t))))
	assert.InDelta(t, fyneAscent, ascent, 1.0/256, "the ascender is Fyne's (to the font's unit)")
	assert.InDelta(t, min(fyneDescent, ownDescent), descent, 1.0/256, "the descender, the lower one")
}

func ttfData(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(testFont)
	require.NoError(t, err)
	return data
}

// The CJK font is cut to the characters Fyne's fonts lack, and keeps the
// spaces (cjkRunes); GB 2312 and the punctuation blocks come with the
// screens' own texts (fontRunes).
func TestCJKRunes(t *testing.T) {
	got := cjkRunes([]rune("ABC D中，\u3000\t"), map[rune]bool{'B': true, 'C': true, ' ': true, '\t': true})
	assert.Equal(t, "A D中，\u3000\t", string(got))

	want := fontRunes([]string{"𠀀 from a menu", "Coffee"})
	for _, r := range "𠀀中张王，。：（）…—“”　！ \t\u00a0" {
		assert.True(t, slices.Contains(want, r), "%q", r)
	}
	assert.True(t, slices.IsSorted(want))
	assert.GreaterOrEqual(t, len(gb2312()), 6763+682, "GB 2312: 6,763 hanzi and 682 other characters")
}

// parseFont parses a font resource as Fyne does.
func parseFont(t *testing.T, res fyne.Resource) *font.Face {
	t.Helper()
	f, err := font.ParseTTF(bytes.NewReader(res.Content()))
	require.NoError(t, err, res.Name())
	return f
}

// A surname outside GB 2312 is cut into the font when it is about to be
// shown, and the theme is set again so that Fyne draws it with the
// kiosk's font; a character the font file lacks is looked for once.
func TestRareCharacterIsCutIn(t *testing.T) {
	path := systemFont(t)
	h := newHarness(t, func(o *Options, _ *Deps) { o.Lang, o.FontPath = langZH, path })
	k := h.k
	require.False(t, k.cjk.has('堃'), "堃 is not in GB 2312: not in the first cut")
	first := k.app.Settings().Theme().Font(fyne.TextStyle{})

	k.cover("堃*", "余额 ¥12.00")
	assert.True(t, k.cjk.has('堃'))
	assert.True(t, k.cjk.has('中'), "the first cut's characters stay")
	now := k.app.Settings().Theme().Font(fyne.TextStyle{})
	assert.NotSame(t, first, now, "the theme has the new cut")
	face := parseFont(t, now)
	_, ok := face.NominalGlyph('堃')
	assert.True(t, ok, "Fyne gets a font with 堃")

	k.cover("堃") // nothing to do
	assert.Same(t, now, k.app.Settings().Theme().Font(fyne.TextStyle{}))

	wanted := len(k.cjk.want)
	k.cover("𠀀") // not in Noto Sans CJK: looked for once
	assert.False(t, k.cjk.has('𠀀'))
	assert.Same(t, now, k.app.Settings().Theme().Font(fyne.TextStyle{}), "no new theme for nothing")
	assert.Equal(t, wanted+1, len(k.cjk.want), "remembered as looked for")

	// Bounded: after maxExtraRunes characters, no more cuts (two were
	// added above; these are in no font).
	var many []rune
	for r := rune(0xf0000); len(many) < maxExtraRunes-2; r++ {
		many = append(many, r)
	}
	k.cover(string(many))
	require.Equal(t, wanted+maxExtraRunes-1, len(k.cjk.want))
	k.cover("喆")
	assert.False(t, k.cjk.has('喆'), "no cut past the bound")
}

// On the screens: a card holder whose surname is outside GB 2312 is shown
// with it drawn by the kiosk's font, which gains it before the card
// screen is drawn.
func TestRareSurnameOnTheCardScreen(t *testing.T) {
	path := systemFont(t)
	cards := append(sim.DemoCards(), sim.Card{Account: "9000001", Name: "堃一", CardID: "3197659999", Balance: 50_00})
	r := &rig{Rig: agenttest.NewRig(t, agenttest.SimOptions(func(o *sim.Options) { o.Cards = cards }))}
	h := startKiosk(t, test.NewTempApp(t), r, func(o *Options, _ *Deps) { o.Lang, o.FontPath = langZH, path })
	t.Cleanup(h.stop)
	require.False(t, h.k.cjk.has('堃'))
	h.scan(agent.ScanCard, "3197659999")
	h.waitScreen(ScreenCard)
	require.True(t, h.shows("堃*"), "the masked name: %q", h.texts())
	assert.True(t, h.k.cjk.has('堃'))
	faces := newFaceCache(t, h.k.app.Settings().Theme())
	for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
		assert.Empty(t, faces.unresolved(style, "堃*"), "%+v: drawn with the kiosk's fonts", style)
	}
}
