package ui

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/ui/fontsubset"
)

// systemFont is the Chinese font `make deps` installs (fonts-noto-cjk), at
// the first of the kiosk's default paths where it is: what the screens draw
// with on a kiosk installed from the package, whose first CJK alternative
// it is. The test fails, never skips, without it.
func systemFont(t *testing.T) string {
	t.Helper()
	for _, p := range defaultFontPaths() {
		if !strings.Contains(p, "NotoSansCJK") {
			continue
		}
		if _, err := readFont(p, []rune("中")); err == nil {
			return p
		}
	}
	t.Fatal("no Noto Sans CJK (Debian fonts-noto-cjk) at the kiosk's default font paths: run `make deps`, which installs it")
	return ""
}

// TestSystemFontRendersTheScreens draws the idle, card and receipt screens
// in Chinese with the system font and checks every character drawn, and
// every one of the catalogue (both languages), the menu and the simulator's
// demo card holders, against the faces Fyne draws with: found in none of
// them, Fyne would take it from a font the kiosk did not choose, or draw a
// box. Latin text keeps Fyne's fonts, bold included.
func TestSystemFontRendersTheScreens(t *testing.T) {
	path := systemFont(t)
	// The harness requires no warning: MissingGlyphs is empty too.
	h := newHarness(t, func(o *Options, _ *Deps) { o.Lang, o.FontPath = langZH, path })
	require.Empty(t, h.k.MissingGlyphs())
	faces := newFaceCache(t, h.k.app.Settings().Theme())

	all := map[string]string{}
	for _, lang := range []string{langZH, langEN} {
		for key, s := range catalogue(lang) {
			all[lang+" "+string(key)] = s
		}
	}
	for _, it := range testMenu() {
		all["menu "+it.Name] = it.Name
	}
	for _, c := range sim.DemoCards() {
		all["demo card "+c.Account] = c.Name
	}
	for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
		for what, s := range all {
			assert.Empty(t, faces.unresolved(style, s), "%s %q (%+v): no font the kiosk gave Fyne has these", what, s, style)
		}
	}

	shown := map[string]int{}
	check := func(screen string) {
		t.Helper()
		n := 0
		for _, o := range h.objects() {
			if txt, ok := o.(*canvas.Text); ok && txt.Text != "" {
				n++
				if miss := faces.unresolved(txt.TextStyle, txt.Text); miss != "" {
					t.Errorf("%s: %q (%+v) draws %q with no face the kiosk gave Fyne: boxes, or a font it did not choose", screen, txt.Text, txt.TextStyle, miss)
				}
			}
		}
		shown[screen] = n
	}
	check(ScreenIdle)
	h.scan(agent.ScanCard, cardNormal)
	h.waitScreen(ScreenCard)
	require.True(t, h.shows("张*"), "the holder's masked name: %q", h.texts())
	check(ScreenCard)
	h.tap("米饭套餐  ¥12.00")
	h.tap(h.k.tx.t(mConfirm))
	h.waitScreen(ScreenResult)
	require.Equal(t, ResultPaid, h.k.State().LastResult)
	check("receipt")
	for screen, n := range shown {
		assert.NotZero(t, n, "%s: texts drawn", screen)
	}

	// Latin letters come from Fyne's font of the style: a bold headline
	// is as wide as under Fyne's own theme, and wider than regular.
	bold := fyne.TextStyle{Bold: true}
	for _, r := range "Paid¥12.00" {
		assert.Same(t, faces.get(theme.DefaultTextBoldFont()), faces.resolve(bold, r), "%q in bold: Fyne's bold font", r)
	}
	const latin = "Diagnostics: Paid ¥12.00"
	kiosk := fyne.MeasureText(latin, 36, bold)
	regular := fyne.MeasureText(latin, 36, fyne.TextStyle{})
	th := h.k.app.Settings().Theme()
	h.k.app.Settings().SetTheme(theme.DefaultTheme())
	own := fyne.MeasureText(latin, 36, bold)
	// The CJK font with its own Latin letters, as the theme once had it.
	whole, err := readWholeFont(path)
	require.NoError(t, err)
	h.k.app.Settings().SetTheme(&kioskTheme{cjk: whole})
	before := fyne.MeasureText(latin, 36, bold)
	h.k.app.Settings().SetTheme(th)
	assert.Equal(t, own.Width, kiosk.Width, "bold Latin is Fyne's bold")
	assert.Greater(t, kiosk.Width, regular.Width, "bold is bolder than regular")
	assert.NotEqual(t, before.Width, kiosk.Width, "the CJK font's own Latin would have drawn it")
}

// readWholeFont is the font as the theme had it before it left Fyne's
// characters to Fyne: the face with its whole character map.
func readWholeFont(path string) (fyne.Resource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lds, err := ot.NewLoaders(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	idx := pickFace(lds)
	cmap, err := cmapOf(lds[idx])
	if err != nil {
		return nil, err
	}
	var all []rune
	for it := cmap.Iter(); it.Next(); {
		r, _ := it.Char()
		all = append(all, r)
	}
	out, err := fontsubset.Cut(data, fontsubset.Request{Face: idx, Runes: all})
	if err != nil {
		return nil, err
	}
	return fyne.NewStaticResource("whole.otf", out.Data), nil
}

// faceCache parses each font resource once and resolves characters as
// Fyne does (internal/painter's CachedFontFace and lookupFaces, v2.7):
// for a text style, the first that maps the character of the theme's
// font of the style, then Fyne's own font of that style. Fyne tries the
// emoji font and the system's fonts after these; a character only those
// have is drawn with a font the kiosk did not choose, or as a box.
type faceCache struct {
	t      *testing.T
	th     fyne.Theme
	parsed map[fyne.Resource]*font.Face
}

func newFaceCache(t *testing.T, th fyne.Theme) *faceCache {
	return &faceCache{t: t, th: th, parsed: map[fyne.Resource]*font.Face{}}
}

func (c *faceCache) get(res fyne.Resource) *font.Face {
	f, ok := c.parsed[res]
	if !ok {
		f = parseFont(c.t, res)
		c.parsed[res] = f
	}
	return f
}

// faces are the faces Fyne tries first for style, in order. Fyne's own
// font of a style is its default theme's.
func (c *faceCache) faces(s fyne.TextStyle) []*font.Face {
	return []*font.Face{c.get(c.th.Font(s)), c.get(theme.DefaultTheme().Font(s))}
}

// resolve is the face r is drawn with in style s; nil when none of the
// kiosk's.
func (c *faceCache) resolve(s fyne.TextStyle, r rune) *font.Face {
	for _, f := range c.faces(s) {
		if _, ok := f.NominalGlyph(r); ok {
			return f
		}
	}
	return nil
}

// unresolved returns the characters of text that resolve to no face of
// the kiosk's, sorted, once each; spaces, controls and format characters
// are passed over (go-text chooses no face for them).
func (c *faceCache) unresolved(s fyne.TextStyle, text string) string {
	var out []rune
	for _, r := range text {
		if !unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf) && !slices.Contains(out, r) && c.resolve(s, r) == nil {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return string(out)
}
