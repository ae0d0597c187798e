package ui

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/font/opentype/tables"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/campuspos/kiosk/ui/fontsubset"
)

// defaultFontPaths lists where Debian, Ubuntu, Fedora and Arch put the
// Chinese fonts a kiosk image is likely to have, best first.
func defaultFontPaths() []string {
	return []string{
		"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
		"/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
		"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
		"/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
		"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
		"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	}
}

// cjkFont is a Chinese font as the theme uses it: cut down to the
// characters the kiosk can show.
//
// Why cut: go-text, which Fyne draws with, copies every table of a font it
// parses into memory, once per text style; Noto Sans CJK's Simplified
// Chinese face is 16 MB, so the whole face cost ~85 MiB of heap (issue 14,
// docs/BENCHMARKS.md). The kiosk shows its own texts (both catalogues, the
// menu, its configuration), card holders' names (masked to the surname)
// and the platform's messages, so the cut keeps the characters of those
// texts, all of GB 2312 (6,763 hanzi and its punctuation and symbols, which
// cover the surnames and messages of a mainland campus) and the CJK and
// full-width punctuation blocks: about 1.8 MB from Noto. A rarer
// character met later (a surname outside GB 2312) is cut in then (extend,
// Kiosk.cover): Fyne's own fallback to the system's fonts would load a
// whole face for it, and maybe not the Simplified Chinese one.
type cjkFont struct {
	// res is the font given to Fyne: the cut face (a collection's
	// Simplified Chinese one), without the characters Fyne's own fonts
	// map (cjkRunes), with Fyne's ascender (fitMetrics); nil when no font
	// was found.
	res fyne.Resource
	// runes are the characters res maps: what the screens' texts are
	// checked against (missingGlyphs).
	runes map[rune]bool
	// path and want are what res was cut from and to: extend cuts again.
	path string
	face int // of a collection
	want []rune
	// extra counts the characters extend added to want since the first
	// cut (found in the file or not).
	extra int
}

// maxExtraRunes bounds the characters extend adds over a kiosk's life:
// each costs a few hundred bytes of font, and a platform sending text in
// a script the font lacks must not make the kiosk cut its font for ever.
const maxExtraRunes = 512

// has reports whether the font maps r.
func (f cjkFont) has(r rune) bool { return f.runes[r] }

// extend returns the font cut again with the characters of missing that
// its file has, and true; false (and f) when it has none of them, or
// maxExtraRunes were added already. Cutting takes tens of milliseconds:
// it is for the rare character, not for every text.
func (f cjkFont) extend(missing []rune) (cjkFont, bool, error) {
	if f.res == nil || len(missing) == 0 || f.extra+len(missing) > maxExtraRunes {
		return f, false, nil
	}
	want := slices.Concat(f.want, missing)
	slices.Sort(want)
	want = slices.Compact(want)
	has, err := fileHas(f.path, f.face, missing)
	if err != nil {
		return f, false, err
	}
	if !has {
		// None of them in the file (a symbol in a log line, a script the
		// font lacks): remembered as wanted, so that they are not looked
		// for again, and no cut for nothing.
		f.want, f.extra = want, f.extra+len(missing)
		return f, false, nil
	}
	g, err := readFont(f.path, want)
	if err != nil {
		return f, false, err
	}
	g.extra = f.extra + len(missing)
	return g, true, nil
}

// fileHas reports whether face of the font file at path maps any of
// runes: its character map alone is read, a few milliseconds.
func fileHas(path string, face int, runes []rune) (_ bool, err error) {
	defer func() {
		if p := recover(); p != nil { // go-text on a font changed since (see readFont)
			err = fmt.Errorf("not a font Fyne can read (%v)", p)
		}
	}()
	data, unmap, err := mapFile(path)
	if err != nil {
		return false, err
	}
	defer unmap()
	t, err := fontsubset.Tables(data, face)
	if err != nil {
		return false, err
	}
	cmap, err := fontsubset.Cmap(t)
	if err != nil {
		return false, err
	}
	for _, r := range runes {
		if _, ok := cmap.Lookup(r); ok {
			return true, nil
		}
	}
	return false, nil
}

// loadCJKFont returns the first usable Chinese font, cut to the characters
// of texts and those fontRunes adds: path when set, else the first of
// candidates that exists. It never fails: a kiosk without a Chinese font
// still works (in English, or with boxes for Chinese), so what went wrong
// comes back as warnings for the log and diagnostics.
func loadCJKFont(path string, candidates []string, texts []string) (cjkFont, []string) {
	var warnings []string
	want := fontRunes(texts)
	if path != "" {
		f, err := readFont(path, want)
		if err == nil {
			return f, nil
		}
		warnings = append(warnings, fmt.Sprintf("font %s: %v; looking for a system Chinese font", path, err))
	}
	for _, p := range candidates {
		f, err := readFont(p, want)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			return f, warnings
		}
		warnings = append(warnings, fmt.Sprintf("font %s: %v", p, err))
	}
	warnings = append(warnings, "no Chinese font found (set ui.font, or install fonts-noto-cjk or fonts-wqy-microhei): Chinese text will not render")
	return cjkFont{}, warnings
}

// readFont cuts a font file for the theme: its face (a collection's
// Simplified Chinese one) with the characters of want that Fyne's fonts
// lack (cjkRunes), fitted to Fyne's fonts (fitMetrics). The file is
// mapped, not read: the pages of the glyphs left out are never touched,
// and none stays in memory after the cut.
func readFont(path string, want []rune) (_ cjkFont, err error) {
	// go-text panics on some malformed fonts (fuzzing found one in its
	// character map reader): a bad font file must be a warning, not a
	// kiosk that cannot start.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("not a font Fyne can read (%v)", p)
		}
	}()
	data, unmap, err := mapFile(path)
	if err != nil {
		return cjkFont{}, err
	}
	defer unmap()
	lds, err := ot.NewLoaders(bytes.NewReader(data))
	if err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	idx := pickFace(lds)
	fit := fyneTextFonts()
	replace := map[string][]byte{}
	if err := fitMetrics(lds[idx], fit, replace); err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	cut, err := fontsubset.Cut(data, fontsubset.Request{Face: idx, Runes: cjkRunes(want, fit.runes), Replace: replace})
	if err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	// The cut reads the character map; every want has 中 (GB 2312).
	if _, ok := slices.BinarySearch(cut.Runes, '中'); !ok {
		return cjkFont{}, errors.New("has no Chinese characters")
	}
	// Parsed once here as Fyne will parse it: what Fyne would choke on is
	// this font's warning, not a panic while drawing.
	if _, err := font.ParseTTF(bytes.NewReader(cut.Data)); err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	has := make(map[rune]bool, len(cut.Runes))
	for _, r := range cut.Runes {
		has[r] = true
	}
	return cjkFont{res: fyne.NewStaticResource(filepath.Base(path), cut.Data), runes: has, path: path, face: idx, want: want}, nil
}

// fontRunes are the characters the Chinese font is cut to: those of texts
// (what the screens show that is known at start-up), GB 2312's, the CJK
// symbols and punctuation and the full-width forms, general punctuation,
// and the spaces and controls of ASCII and Latin-1 (go-text shapes those
// with the face of the text around them: see cjkRunes).
func fontRunes(texts []string) []rune {
	var out []rune
	for _, s := range texts {
		out = append(out, []rune(s)...)
	}
	out = append(out, gb2312()...)
	for _, block := range [][2]rune{{0x00, 0x20}, {0x7f, 0xa0}, {0x2000, 0x206f}, {0x3000, 0x303f}, {0xff00, 0xffef}} {
		for r := block[0]; r <= block[1]; r++ {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// gb2312 returns the characters of GB 2312 (rows 1–87 of the two-byte
// EUC-CN table), decoded with GBK, which includes it.
func gb2312() []rune {
	raw := make([]byte, 0, 2*87*94)
	for b1 := 0xa1; b1 <= 0xf7; b1++ {
		for b2 := 0xa1; b2 <= 0xfe; b2++ {
			raw = append(raw, byte(b1), byte(b2))
		}
	}
	s, err := simplifiedchinese.GBK.NewDecoder().Bytes(raw)
	if err != nil {
		return nil // cannot happen: GBK decodes every pair, unassigned ones as U+FFFD
	}
	var out []rune
	for _, r := range string(s) {
		if r != unicode.ReplacementChar {
			out = append(out, r)
		}
	}
	return out
}

// cjkRunes returns the characters of want the CJK font is to map: none
// that Fyne's fonts map (leave), which then fall through to Fyne's font of
// each style, but spaces, controls and format characters, which go-text
// shapes with the face of the text around them, so it must have them (see
// kioskTheme).
func cjkRunes(want []rune, leave map[rune]bool) []rune {
	var out []rune
	for _, r := range want {
		if !leave[r] || unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf) {
			out = append(out, r)
		}
	}
	return out
}

// pickFace chooses the face of a collection to use: the Simplified Chinese
// one of Noto/Source Han ("… SC"), whose glyph shapes are the ones
// mainland students read; else the first.
func pickFace(lds []*ot.Loader) int {
	for i, ld := range lds {
		d, _ := font.Describe(ld, nil)
		if strings.HasSuffix(d.Family, " SC") {
			return i
		}
	}
	return 0
}

// cmapOf reads a face's character map alone, without parsing its glyphs.
func cmapOf(ld *ot.Loader) (font.Cmap, error) {
	raw, err := ld.RawTable(ot.MustNewTag("cmap"))
	if err != nil {
		return nil, err
	}
	t, _, err := tables.ParseCmap(raw)
	if err != nil {
		return nil, err
	}
	cmap, _, err := font.ProcessCmap(t, tables.FPNone)
	return cmap, err
}

// fyneFonts is what the CJK font is fitted to: Fyne's text fonts
// (regular, bold, italic, bold italic).
type fyneFonts struct {
	// runes are the characters every one of them maps: those the CJK font
	// leaves to them.
	runes map[rune]bool
	// ascent and descent are their highest ascender and lowest descender,
	// in ems (descent negative).
	ascent, descent float64
}

// fyneTextFonts reads Fyne's text fonts (their character maps and line
// metrics, not their glyphs), once.
var fyneTextFonts = sync.OnceValue(func() fyneFonts {
	var out fyneFonts
	for _, res := range []fyne.Resource{theme.DefaultTextFont(), theme.DefaultTextBoldFont(),
		theme.DefaultTextItalicFont(), theme.DefaultTextBoldItalicFont()} {
		ld, err := ot.NewLoader(bytes.NewReader(res.Content()))
		if err != nil {
			return fyneFonts{} // Fyne's own fonts: cannot happen; then nothing is left to them
		}
		cmap, err := cmapOf(ld)
		if err != nil {
			return fyneFonts{}
		}
		has := map[rune]bool{}
		for it := cmap.Iter(); it.Next(); {
			if r, _ := it.Char(); out.runes == nil || out.runes[r] {
				has[r] = true
			}
		}
		out.runes = has
		if m, err := lineMetricsOf(ld); err == nil {
			out.ascent = max(out.ascent, float64(m.ascender())/m.em)
			out.descent = min(out.descent, float64(m.descender())/m.em)
		}
	}
	return out
})

// lineMetrics are a face's ascender and descender where go-text reads
// them: the 'OS/2' table's typographic ones when the face says to use
// those (fsSelection's USE_TYPO_METRICS), else the 'hhea' table's.
type lineMetrics struct {
	tag   string
	table []byte // a copy of the table
	at    int    // the ascender's offset in it; the descender follows
	em    float64
}

func lineMetricsOf(ld *ot.Loader) (lineMetrics, error) {
	head, err := ld.RawTable(ot.MustNewTag("head"))
	if err != nil || len(head) < 20 {
		return lineMetrics{}, errors.New("no font header")
	}
	em := float64(binary.BigEndian.Uint16(head[18:]))
	if os2, err := ld.RawTable(ot.MustNewTag("OS/2")); err == nil && len(os2) >= 72 &&
		binary.BigEndian.Uint16(os2[62:])&(1<<7) != 0 && !bytes.Equal(os2[4:8], []byte{0, 0, 0, 0}) {
		// go-text also wants a weight or width class, which a real face has.
		return lineMetrics{tag: "OS/2", table: os2, at: 68, em: em}, nil
	}
	hhea, err := ld.RawTable(ot.MustNewTag("hhea"))
	if err != nil || len(hhea) < 10 {
		return lineMetrics{}, errors.New("no horizontal header")
	}
	return lineMetrics{tag: "hhea", table: hhea, at: 4, em: em}, nil
}

func (m lineMetrics) ascender() int16 { return int16(binary.BigEndian.Uint16(m.table[m.at:])) }

func (m lineMetrics) descender() int16 { return int16(binary.BigEndian.Uint16(m.table[m.at+2:])) }

// fitMetrics puts into replace the CJK face's line metrics table made
// Fyne's (see kioskTheme): Fyne's fonts' ascender, and the lower descender
// of the two.
func fitMetrics(ld *ot.Loader, to fyneFonts, replace map[string][]byte) error {
	if to.ascent == 0 {
		return nil // Fyne's fonts unread: nothing to fit to
	}
	m, err := lineMetricsOf(ld)
	if err != nil {
		return err
	}
	binary.BigEndian.PutUint16(m.table[m.at:], uint16(int16(math.Round(to.ascent*m.em))))
	descent := int16(math.Round(to.descent * m.em))
	binary.BigEndian.PutUint16(m.table[m.at+2:], uint16(min(descent, m.descender())))
	replace[m.tag] = m.table
	return nil
}

// cover makes sure the Chinese font maps the characters of texts about to
// be shown that were not known at start-up (a card holder's surname, a
// platform's message): a character neither it nor Fyne's fonts have is
// cut in from the font file (extend) and the theme set again, which makes
// Fyne parse the fonts anew and redraw. Runs on the UI goroutine, before
// the texts are shown.
func (k *Kiosk) cover(texts ...string) {
	missing := missingGlyphs(texts, k.cjk.has)
	if missing == "" || k.cjk.res == nil {
		return
	}
	f, ok, err := k.cjk.extend([]rune(missing))
	k.cjk = f
	if err != nil || !ok {
		return // drawn by Fyne's fallback, or as boxes
	}
	k.app.Settings().SetTheme(&kioskTheme{cjk: f.res})
}
