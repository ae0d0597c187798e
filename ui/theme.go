package ui

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
)

// kioskTheme is Fyne's default theme made for a touch screen read at arm's
// length: large text and padding (so every button is a large target), a
// fixed light variant (a kiosk must not turn dark because a desktop setting
// says so), and a CJK font for Chinese text when one was found.
type kioskTheme struct {
	// text is the CJK font, nil when none was found: Fyne's own font is
	// used, and Chinese falls back to whatever the system offers.
	text fyne.Resource
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

func (t *kioskTheme) Font(s fyne.TextStyle) fyne.Resource {
	// Monospace and symbols keep Fyne's fonts: the CJK font has neither
	// Fyne's icons nor fixed-width digits.
	if t.text != nil && !s.Monospace && !s.Symbol {
		return t.text
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

// loadCJKFont returns the first usable Chinese font: path when set, else
// the first of candidates that exists. It never fails: a kiosk without a
// Chinese font still works (in English, or with boxes for Chinese), so
// what went wrong comes back as warnings for the log and diagnostics.
func loadCJKFont(path string, candidates []string) (fyne.Resource, []string) {
	var warnings []string
	if path != "" {
		res, err := readFont(path)
		if err == nil {
			return res, nil
		}
		warnings = append(warnings, fmt.Sprintf("font %s: %v; looking for a system Chinese font", path, err))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		res, err := readFont(p)
		if err == nil {
			return res, warnings
		}
		warnings = append(warnings, fmt.Sprintf("font %s: %v", p, err))
	}
	warnings = append(warnings, "no Chinese font found (set ui.font, or install fonts-noto-cjk or fonts-wqy-microhei): Chinese text will not render")
	return nil, warnings
}

// readFont loads a font file as a Fyne resource. Fyne reads single fonts
// only, so the Simplified Chinese face of a collection (.ttc) is copied
// out into a font of its own.
func readFont(path string) (fyne.Resource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, []byte("ttcf")) {
		idx, err := pickFace(data)
		if err != nil {
			return nil, err
		}
		if data, err = extractFace(data, idx); err != nil {
			return nil, err
		}
	}
	face, err := font.ParseTTF(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a font Fyne can read: %w", err)
	}
	if _, ok := face.NominalGlyph('中'); !ok {
		return nil, errors.New("has no Chinese characters")
	}
	return fyne.NewStaticResource(filepath.Base(path), data), nil
}

// pickFace chooses the face of a collection to use: the Simplified Chinese
// one of Noto/Source Han ("… SC"), whose glyph shapes are the ones
// mainland students read; else the first.
func pickFace(data []byte) (int, error) {
	lds, err := ot.NewLoaders(bytes.NewReader(data))
	if err != nil {
		return 0, fmt.Errorf("reading font collection: %w", err)
	}
	for i, ld := range lds {
		d, _ := font.Describe(ld, nil)
		if strings.HasSuffix(d.Family, " SC") {
			return i, nil
		}
	}
	return 0, nil
}

// extractFace copies face idx of a TrueType/OpenType collection into a
// standalone font: its table directory, with each table it names copied
// after it (4-byte aligned) and the offsets rewritten. The tables' own
// checksums stay valid; the font-wide checksum adjustment in 'head' is not
// recomputed, which no renderer checks.
func extractFace(data []byte, idx int) ([]byte, error) {
	bad := func(what string) ([]byte, error) { return nil, fmt.Errorf("font collection: %s", what) }
	if len(data) < 12 {
		return bad("truncated header")
	}
	n := int(binary.BigEndian.Uint32(data[8:12]))
	if idx < 0 || idx >= n || len(data) < 12+4*n {
		return bad("no such face")
	}
	off := int(binary.BigEndian.Uint32(data[12+4*idx:]))
	if off+12 > len(data) {
		return bad("face offset out of range")
	}
	numTables := int(binary.BigEndian.Uint16(data[off+4:]))
	dirLen := 12 + 16*numTables
	if off+dirLen > len(data) {
		return bad("table directory out of range")
	}
	out := make([]byte, dirLen, dirLen+1<<20)
	copy(out, data[off:off+dirLen])
	for i := range numTables {
		// out grows below: the record is addressed through it each time.
		rec := 12 + 16*i
		tOff := int(binary.BigEndian.Uint32(out[rec+8:]))
		tLen := int(binary.BigEndian.Uint32(out[rec+12:]))
		if tOff < 0 || tLen < 0 || tOff+tLen > len(data) {
			return bad("table out of range")
		}
		binary.BigEndian.PutUint32(out[rec+8:], uint32(len(out)))
		out = append(out, data[tOff:tOff+tLen]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}
