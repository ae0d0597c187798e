package ui

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
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
)

// kioskTheme is Fyne's default theme made for a touch screen read at arm's
// length: large text and padding (so every button is a large target), a
// fixed light variant (a kiosk must not turn dark because a desktop setting
// says so), and a CJK font for Chinese text when one was found.
//
// How Fyne (v2.7, internal/painter/font.go) picks a font: for each text
// style it keeps a list of faces and draws each character with the first
// face that maps it (dynamicFontMap.ResolveFace; go-text's Segmenter cuts
// a text into runs by that face, so the fallback is per character). The
// list is the theme's Font(style), then Fyne's own font of that style
// (Noto Sans Regular, Bold, Italic or Bold Italic), then its emoji font,
// then system fonts found by go-text's fontscan: the system locale's, then
// any that maps the character. A character none of them maps is drawn as
// a box or a replacement mark.
//
// The theme's font comes first for every character, and a CJK font maps
// Latin letters too (Noto Sans CJK and WenQuanYi do): returned as it is,
// it would draw all Latin text in its one weight, bold headlines included.
// Leaving Chinese to the system fallback does not work either: that finds
// only fonts in the system's directories (never ui.font), chooses among
// a collection's faces itself (Noto's lists the Japanese one first) and
// follows the process locale. So the theme returns, for every text style,
// the CJK font with every character Fyne's own fonts map taken out of its
// character map (cjkOnly): Latin letters, digits and punctuation fall
// through to Fyne's font of the style (bold stays bold), and the CJK font
// draws only what Fyne's fonts lack, the Chinese characters and full-width
// punctuation. Its spaces stay: go-text never changes face for a space,
// so a space in Chinese text is drawn with the face around it.
//
// Fyne sizes a text by the face of ' ' (the CJK font's ascent and
// descent) but puts the baseline at the ascent of the face of the text's
// first character (painter.DrawString). So the CJK font also gets Fyne's
// ascender, and the deeper descender of the two (fitMetrics): a text's
// baseline is then the same whether it starts with a Latin or a Chinese
// character, and Latin descenders are not cut off below a CJK font whose
// lines are shorter than Fyne's (WenQuanYi's). Chinese in a bold style is
// drawn in the CJK font's one weight.
type kioskTheme struct {
	// cjk is the CJK font as the theme gives it to Fyne (cjkFont.res),
	// nil when none was found: Fyne's own font is used, and Chinese falls
	// back to whatever the system offers.
	cjk fyne.Resource
}

func (t *kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameSuccess:
		// Fyne's green is for accents; as the colour of "paid" text on
		// white it is too pale to read from a step away.
		return color.NRGBA{R: 0x1e, G: 0x8e, B: 0x3e, A: 0xff}
	case theme.ColorNameWarning:
		return color.NRGBA{R: 0xc4, G: 0x62, B: 0x00, A: 0xff}
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

// Font is the CJK font for every text style, Fyne's font of the style
// behind it (see kioskTheme). Monospace and symbols keep Fyne's fonts: the
// CJK font has neither Fyne's icons nor fixed-width digits.
func (t *kioskTheme) Font(s fyne.TextStyle) fyne.Resource {
	if t.cjk != nil && !s.Monospace && !s.Symbol {
		return t.cjk
	}
	return theme.DefaultTheme().Font(s)
}

func (t *kioskTheme) Icon(n fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(n)
}

func (t *kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameText:
		return 20
	case theme.SizeNameHeadingText:
		return 36
	case theme.SizeNameSubHeadingText:
		return 26
	case theme.SizeNameCaptionText:
		return 16
	case theme.SizeNamePadding:
		return 4
	case theme.SizeNameInnerPadding:
		// Buttons are a line of text plus twice this: about 56 px high,
		// wider than a fingertip, while a 1024×600 screen still holds a
		// keypad and its amount.
		return 14
	case theme.SizeNameInlineIcon:
		return 28
	case theme.SizeNameScrollBar:
		return 20
	}
	return theme.DefaultTheme().Size(n)
}

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

// cjkFont is a Chinese font as the theme uses it.
type cjkFont struct {
	// res is the font given to Fyne: one face (a collection's Simplified
	// Chinese one) with the characters Fyne's own fonts map taken out of
	// its character map (cjkOnly) and their ascender (fitMetrics); nil
	// when no font was found.
	res fyne.Resource
	// face is res parsed, as Fyne parses it: what the screens' texts are
	// checked against (missingGlyphs).
	face *font.Face
}

// loadCJKFont returns the first usable Chinese font: path when set, else
// the first of candidates that exists. It never fails: a kiosk without a
// Chinese font still works (in English, or with boxes for Chinese), so
// what went wrong comes back as warnings for the log and diagnostics.
func loadCJKFont(path string, candidates []string) (cjkFont, []string) {
	var warnings []string
	if path != "" {
		f, err := readFont(path)
		if err == nil {
			return f, nil
		}
		warnings = append(warnings, fmt.Sprintf("font %s: %v; looking for a system Chinese font", path, err))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		f, err := readFont(p)
		if err == nil {
			return f, warnings
		}
		warnings = append(warnings, fmt.Sprintf("font %s: %v", p, err))
	}
	warnings = append(warnings, "no Chinese font found (set ui.font, or install fonts-noto-cjk or fonts-wqy-microhei): Chinese text will not render")
	return cjkFont{}, warnings
}

// readFont loads a font file for the theme: its face (a collection's
// Simplified Chinese one, copied out into a font of its own: Fyne reads
// single fonts only) fitted to Fyne's fonts (cjkOnly, fitMetrics).
func readFont(path string) (cjkFont, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cjkFont{}, err
	}
	lds, err := ot.NewLoaders(bytes.NewReader(data))
	if err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	idx := pickFace(lds)
	cmap, err := cmapOf(lds[idx])
	if err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	if _, ok := cmap.Lookup('中'); !ok {
		return cjkFont{}, errors.New("has no Chinese characters")
	}
	fit := fyneTextFonts()
	replace := map[string][]byte{"cmap": cjkOnly(cmap, fit.runes)}
	if err := fitMetrics(lds[idx], fit, replace); err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	out, err := extractFace(data, idx, replace)
	if err != nil {
		return cjkFont{}, err
	}
	face, err := font.ParseTTF(bytes.NewReader(out))
	if err != nil {
		return cjkFont{}, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	return cjkFont{res: fyne.NewStaticResource(filepath.Base(path), out), face: face}, nil
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

// cjkOnly returns a character map ('cmap' table) for the CJK font: its own
// (cmap) without the characters in leave, Fyne's, which then fall through
// to Fyne's font of each style. Spaces, controls and format characters
// stay: go-text shapes them with the face of the text around them, which
// must have them (see kioskTheme). The table has one format 12 subtable
// (every Unicode plane), under both Unicode and Windows encodings.
func cjkOnly(cmap font.Cmap, leave map[rune]bool) []byte {
	type pair struct {
		r rune
		g font.GID
	}
	var keep []pair
	for it := cmap.Iter(); it.Next(); {
		r, g := it.Char()
		if !leave[r] || unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf) {
			keep = append(keep, pair{r, g})
		}
	}
	slices.SortFunc(keep, func(a, b pair) int { return int(a.r - b.r) })
	// Groups of consecutive characters with consecutive glyphs.
	type group struct {
		first, last rune
		glyph       font.GID
	}
	var groups []group
	for _, p := range keep {
		if n := len(groups); n > 0 && p.r == groups[n-1].last+1 && p.g == groups[n-1].glyph+font.GID(p.r-groups[n-1].first) {
			groups[n-1].last = p.r
			continue
		}
		groups = append(groups, group{p.r, p.r, p.g})
	}
	be := binary.BigEndian
	const head = 4 + 2*8 // version, number of encodings, two encoding records
	out := make([]byte, head+16+12*len(groups))
	be.PutUint16(out[2:], 2)
	for i, enc := range [][2]uint16{{0, 4}, {3, 10}} { // Unicode full repertoire; Windows UCS-4
		rec := out[4+8*i:]
		be.PutUint16(rec, enc[0])
		be.PutUint16(rec[2:], enc[1])
		be.PutUint32(rec[4:], head)
	}
	sub := out[head:]
	be.PutUint16(sub, 12)
	be.PutUint32(sub[4:], uint32(len(sub)))
	be.PutUint32(sub[12:], uint32(len(groups)))
	for i, g := range groups {
		rec := sub[16+12*i:]
		be.PutUint32(rec, uint32(g.first))
		be.PutUint32(rec[4:], uint32(g.last))
		be.PutUint32(rec[8:], uint32(g.glyph))
	}
	return out
}

// extractFace copies face idx of a TrueType/OpenType font or collection
// into a standalone font, with the tables in replace (by tag) instead of
// its own: its table directory, with each table it names copied after it
// (4-byte aligned) and the offsets rewritten. The tables' own checksums
// stay valid (the replacements' are computed); the font-wide checksum
// adjustment in 'head' is not recomputed, which no renderer checks.
func extractFace(data []byte, idx int, replace map[string][]byte) ([]byte, error) {
	bad := func(what string) ([]byte, error) { return nil, fmt.Errorf("font: %s", what) }
	if len(data) < 12 {
		return bad("truncated header")
	}
	off := 0
	if bytes.HasPrefix(data, []byte("ttcf")) {
		n := int(binary.BigEndian.Uint32(data[8:12]))
		if idx < 0 || idx >= n || len(data) < 12+4*n {
			return bad("no such face")
		}
		off = int(binary.BigEndian.Uint32(data[12+4*idx:]))
	} else if idx != 0 {
		return bad("no such face")
	}
	if off+12 > len(data) {
		return bad("face offset out of range")
	}
	numTables := int(binary.BigEndian.Uint16(data[off+4:]))
	dirLen := 12 + 16*numTables
	if off+dirLen > len(data) {
		return bad("table directory out of range")
	}
	dir := data[off : off+dirLen]
	content := make([][]byte, numTables)
	size := dirLen
	for i := range content {
		rec := dir[12+16*i:]
		tOff, tLen := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if tOff < 0 || tLen < 0 || tOff+tLen > len(data) {
			return bad("table out of range")
		}
		content[i] = data[tOff : tOff+tLen]
		if r, ok := replace[string(rec[:4])]; ok {
			content[i] = r
		}
		size += (len(content[i]) + 3) &^ 3
	}
	// One allocation: a CJK face is some megabytes.
	out := make([]byte, dirLen, size)
	copy(out, dir)
	for i, table := range content {
		rec := 12 + 16*i
		if _, ok := replace[string(out[rec:rec+4])]; ok {
			binary.BigEndian.PutUint32(out[rec+4:], checksum(table))
		}
		binary.BigEndian.PutUint32(out[rec+8:], uint32(len(out)))
		binary.BigEndian.PutUint32(out[rec+12:], uint32(len(table)))
		out = append(out, table...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}

// checksum is an OpenType table checksum: the sum of its big-endian
// 32-bit words, the last one padded with zeros.
func checksum(table []byte) uint32 {
	var sum uint32
	for i := 0; i < len(table); i += 4 {
		var w [4]byte
		copy(w[:], table[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
