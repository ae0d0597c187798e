package ui

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// shownTexts are the texts the screens show that are known when the kiosk
// starts: the catalogue of both languages (the language toggle reaches
// either from the idle screen, whichever ui.language is), the menu, the
// terminal id, and what diagnostics shows of the program and its
// configuration. What comes later (a card holder's name, a platform's
// message, a device's name) is not known in advance and not counted.
func shownTexts(o Options, d Deps) []string {
	var out []string
	for _, lang := range []string{langZH, langEN} {
		for _, s := range catalogue(lang) {
			out = append(out, s)
		}
	}
	for _, it := range o.Menu {
		out = append(out, it.Name)
	}
	for _, a := range d.Extra {
		out = append(out, a.Label)
	}
	out = append(out, o.TermID, o.Version)
	return append(out, o.ConfigSummary...)
}

// missingGlyphs returns the characters of texts, once each and sorted,
// that neither of the faces Fyne tries first for every text style has
// (see kioskTheme): the CJK font as the theme gives it (cjk: whether it
// maps a character) and Fyne's own fonts. Fyne would look for them in
// the system's fonts, and draw a box where none has them; either way not
// a font the kiosk chose. Spaces, controls and format characters are
// passed over: go-text chooses no face for them.
func missingGlyphs(texts []string, cjk func(rune) bool) string {
	fyneHas := fyneTextFonts().runes
	seen := map[rune]bool{}
	var missing []rune
	for _, s := range texts {
		for _, r := range s {
			if seen[r] || unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf) {
				continue
			}
			seen[r] = true
			if fyneHas[r] {
				continue
			}
			if cjk(r) {
				continue
			}
			missing = append(missing, r)
		}
	}
	slices.Sort(missing)
	return string(missing)
}

// glyphsShown is how many of the missing characters the log and
// diagnostics name: enough to recognise them.
const glyphsShown = 8

// describeGlyphs words missing characters for the log and diagnostics:
// how many, and the first few with their code points, which can be read
// where the characters themselves are boxes.
func describeGlyphs(missing string) string {
	rs := []rune(missing)
	var codes []string
	for _, r := range rs[:min(len(rs), glyphsShown)] {
		codes = append(codes, fmt.Sprintf("%c U+%04X", r, r))
	}
	if len(rs) > glyphsShown {
		codes = append(codes, "…")
	}
	return fmt.Sprintf("%d characters (%s)", len(rs), strings.Join(codes, ", "))
}

// fontMissingText is the warning for missing characters, in the log and
// on the diagnostics screen. It is English in both languages: it must be
// readable on a kiosk whose Chinese font is missing.
func fontMissingText(missing string) string {
	return "Font: no loaded font has " + describeGlyphs(missing) +
		" that the screens show; they are drawn as boxes: install fonts-noto-cjk, or set ui.font to a font that has them"
}
