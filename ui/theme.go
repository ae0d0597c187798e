package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
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
