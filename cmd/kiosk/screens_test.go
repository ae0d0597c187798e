package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/font"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/demo"
	"github.com/campuspos/kiosk/ui"
)

// screensEnv names, in the child process, the directory the screen tour
// writes its screenshots and report to; framebufferEnv the X server's
// screen as a file (Xvfb -fbdir), which it captures the screens from.
const (
	screensEnv     = "KIOSK_TEST_SCREENS"
	framebufferEnv = "KIOSK_TEST_FRAMEBUFFER"
)

// depsFont is the Chinese font `make deps` installs (fonts-noto-cjk; the
// Makefile's CJK_FONT), the first of the kiosk's default font paths: the
// font an installed kiosk draws with.
const depsFont = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"

// screenLimit bounds each step of the tour: a race-instrumented kiosk
// drawing with software OpenGL, possibly beside the rest of `make test`.
const screenLimit = time.Minute

// tourReport is what the child writes after its tour of the screens.
type tourReport struct {
	// Warnings and MissingGlyphs are the kiosk's (ui.Kiosk).
	Warnings      []string `json:"warnings"`
	MissingGlyphs string   `json:"missing_glyphs"`
	// Screens are the screens visited, in order.
	Screens []tourScreen `json:"screens"`
	// Problems are the characters drawn, or in the demo's menu and card
	// holders' names, that no face the kiosk gave Fyne has, and anything
	// that stopped the tour.
	Problems []string `json:"problems"`
}

// tourScreen is one screen as drawn: its screenshot and texts.
type tourScreen struct {
	Name  string   `json:"name"`
	Image string   `json:"image"` // file name in the tour's directory
	Texts []string `json:"texts"`
}

// TestChineseScreens runs the real kiosk (this test binary as main) in
// demo mode under Xvfb with the system's Chinese font, switches it to 中文
// with the language button, and has it show the idle, card, confirmation
// and receipt screens for a demo card and the demo menu's first item. The
// kiosk itself (tourScreens, in the child) captures each screen from the
// X server's screen and checks every character it draws, every demo card
// holder's name and every menu item against the faces Fyne draws with:
// the theme's font of the text's style, then Fyne's own. Here the
// screenshots are checked (the window's size, drawn, each screen its
// own), and the status endpoint must be ready, with no font_missing.
func TestChineseScreens(t *testing.T) {
	if _, err := os.Stat(depsFont); err != nil {
		t.Fatalf("the Chinese font the kiosk draws with is missing (%v): run `make deps`, which installs fonts-noto-cjk", err)
	}
	// An X server of its own, whatever DISPLAY says, for its screen as a
	// file: the GL driver's own capture reads back an empty front buffer
	// under Xvfb.
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatal("no Xvfb: run `make deps`, which installs xvfb")
	}
	fbdir := t.TempDir()
	display := startXvfb(t, "-fbdir", fbdir)
	dir, out := t.TempDir(), t.TempDir()
	statePath := filepath.Join(t.TempDir(), "state.json")
	child := startKioskChild(t, display, dir, screensEnv+"="+out,
		framebufferEnv+"="+filepath.Join(fbdir, "Xvfb_screen0"), "KIOSK_STATE_FILE="+statePath)
	cmd, stderr, exited := child.cmd, child.stderr, child.exited

	reportPath := filepath.Join(out, "report.json")
	deadline := time.After(4 * screenLimit)
	for {
		if _, err := os.Stat(reportPath); err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the kiosk exited before its tour of the screens (%v):\n%s", *child.waitErr, stderr)
		case <-deadline:
			t.Fatalf("no tour of the screens after %s:\n%s", 4*screenLimit, stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	data, err := os.ReadFile(reportPath)
	require.NoError(t, err)
	var rep tourReport
	require.NoError(t, json.Unmarshal(data, &rep))
	defer func() {
		if t.Failed() {
			keepScreens(t, out, rep)
		}
	}()

	// What the status endpoint says of the same kiosk.
	var st stateFile
	stData, err := os.ReadFile(statePath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(stData, &st))
	require.NotEmpty(t, st.Status, "the demo serves its status endpoint")
	get := func(path string) string {
		resp, err := http.Get("http://" + st.Status + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.NotContains(t, get("/healthz"), "font_missing")
	metrics := get("/metrics")
	assert.Contains(t, metrics, "\nkiosk_font_missing 0\n")
	assert.Contains(t, metrics, "\nkiosk_card_password_failures_total 1\n", "the wrong password is counted")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
		require.NoError(t, *child.waitErr, "exit status after SIGTERM:\n%s", stderr)
	case <-time.After(smokeExitLimit):
		t.Fatalf("still running %s after SIGTERM:\n%s", smokeExitLimit, stderr)
	}

	for _, p := range rep.Problems {
		t.Error(p)
	}
	assert.Empty(t, rep.MissingGlyphs, "the catalogue and menu: characters no loaded font has")
	for _, w := range rep.Warnings {
		assert.NotContains(t, w, "font", "the kiosk's warnings")
	}
	var names []string
	var last image.Image
	for _, s := range rep.Screens {
		names = append(names, s.Name)
		img := readPNG(t, filepath.Join(out, s.Image))
		checkScreenshot(t, s.Name, img)
		if last != nil {
			assert.False(t, sameImage(last, img), "%s: a screen of its own", s.Name)
		}
		last = img
		t.Logf("%s: %q", s.Name, s.Texts)
	}
	assert.Equal(t, []string{"idle", "card", "confirm", "receipt", "password"}, names)

	// The card's passwords typed (issue 15) are nowhere: not in the log,
	// the journal, the metrics or the state file.
	journal, err := os.ReadFile(filepath.Join(dir, "kiosk.db"))
	require.NoError(t, err)
	state, err := os.ReadFile(statePath)
	require.NoError(t, err)
	for _, pwd := range []string{tourWrongPassword, sim.DemoCards()[0].Password} {
		require.NotEmpty(t, pwd)
		for what, b := range map[string][]byte{"the log": []byte(stderr.String()), "the journal": journal,
			"the metrics": []byte(metrics), "the state file": state} {
			assert.NotContains(t, string(b), pwd, "%s holds a card password typed", what)
		}
	}
	if !t.Failed() {
		t.Logf("the screens drew every character with the kiosk's fonts (%s)", depsFont)
	}
	assert.NotContains(t, stderr.String(), "DATA RACE")
}

// checkScreenshot checks a captured screen: the window's size (1024×600,
// --windowed), and drawn: white ground, and text in the top half (the
// heading and the status bar) in darker ink.
func checkScreenshot(t *testing.T, name string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	assert.Equal(t, image.Pt(1024, 600), b.Size(), "%s: the window's size", name)
	var white, dark int
	for y := b.Min.Y; y < b.Min.Y+b.Dy()/2; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			switch lum := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y; {
			case lum > 0xf0:
				white++
			case lum < 0xa0:
				dark++
			}
		}
	}
	half := b.Dx() * b.Dy() / 2
	assert.Greater(t, white, half/2, "%s: mostly the white ground", name)
	assert.Greater(t, dark, half/500, "%s: text drawn", name)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err, path)
	return img
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// keepScreens copies a failed tour's screenshots to testdata/failed, for a
// person to look at.
func keepScreens(t *testing.T, out string, rep tourReport) {
	dst := filepath.Join("testdata", "failed")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Logf("keeping the screenshots: %v", err)
		return
	}
	for _, s := range rep.Screens {
		data, err := os.ReadFile(filepath.Join(out, s.Image))
		if err == nil {
			err = os.WriteFile(filepath.Join(dst, "chinese_"+s.Image), data, 0o644)
		}
		if err != nil {
			t.Logf("keeping %s: %v", s.Image, err)
		}
	}
	t.Logf("the screenshots are in %s", dst)
}

// tourScreens is the child's side of TestChineseScreens (onScreens): it
// drives the kiosk through its screens in Chinese, capturing and checking
// each, and writes the report to dir.
func tourScreens(dir string) func(context.Context, *ui.Kiosk) {
	return func(ctx context.Context, k *ui.Kiosk) {
		rep := tourReport{Warnings: k.Warnings(), MissingGlyphs: k.MissingGlyphs()}
		if err := tour(ctx, k, dir, os.Getenv(framebufferEnv), &rep); err != nil {
			rep.Problems = append(rep.Problems, "the tour stopped: "+err.Error())
		}
		data, err := json.MarshalIndent(rep, "", "  ")
		if err == nil {
			err = demo.WriteReplace(filepath.Join(dir, "report.json"), data)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "screen tour:", err)
		}
	}
}

func tour(ctx context.Context, k *ui.Kiosk, dir, framebuffer string, rep *tourReport) error {
	faces := &fontFaces{th: fyne.CurrentApp().Settings().Theme(), parsed: map[fyne.Resource]*font.Face{}}
	wait := func(screen string) error {
		deadline := time.Now().Add(screenLimit)
		for k.State().Screen != screen {
			if time.Now().After(deadline) {
				return fmt.Errorf("no %s screen after %s; state %+v", screen, screenLimit, k.State())
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return nil
	}
	// tap taps the enabled button whose label starts with label.
	tap := func(label string) error {
		var found *widget.Button
		var labels []string
		fyne.DoAndWait(func() {
			for _, b := range buttons(k.Window().Canvas().Content(), nil) {
				labels = append(labels, b.Text)
				if found == nil && strings.HasPrefix(b.Text, label) && !b.Disabled() {
					found = b
				}
			}
			if found != nil {
				found.Tapped(&fyne.PointEvent{})
			}
		})
		if found == nil {
			return fmt.Errorf("no button %q among %q", label, labels)
		}
		return nil
	}
	shoot := func(name string) error {
		img, err := settledCapture(ctx, framebuffer, k.Window().Canvas())
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var texts []*canvas.Text
		fyne.DoAndWait(func() { texts = drawnTexts(k.Window().Canvas().Content(), nil) })
		s := tourScreen{Name: name, Image: name + ".png"}
		for _, txt := range texts {
			s.Texts = append(s.Texts, txt.Text)
			if miss := faces.unresolved(txt.TextStyle, txt.Text); miss != "" {
				rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %q (%s) draws %q (%s) with no face the kiosk gave Fyne: boxes, or a font it did not choose",
					name, txt.Text, styleName(txt.TextStyle), miss, codePoints(miss)))
			}
		}
		if len(texts) == 0 {
			rep.Problems = append(rep.Problems, name+": no text drawn")
		}
		rep.Screens = append(rep.Screens, s)
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, s.Image), buf.Bytes(), 0o644)
	}

	// The demo's own texts, whether or not this tour shows them.
	for _, style := range []fyne.TextStyle{{}, {Bold: true}} {
		for _, c := range sim.DemoCards() {
			if miss := faces.unresolved(style, c.Name); miss != "" {
				rep.Problems = append(rep.Problems, fmt.Sprintf("demo card holder %q (%s): %q (%s) in no face of the kiosk's", c.Name, styleName(style), miss, codePoints(miss)))
			}
		}
		for _, m := range demo.Menu() {
			if miss := faces.unresolved(style, m.Name); miss != "" {
				rep.Problems = append(rep.Problems, fmt.Sprintf("demo menu item %q (%s): %q (%s) in no face of the kiosk's", m.Name, styleName(style), miss, codePoints(miss)))
			}
		}
	}

	card, item := sim.DemoCards()[0], demo.Menu()[0]
	steps := []func() error{
		func() error { return wait(ui.ScreenIdle) },
		// The demo starts in English; its language button says 中文.
		func() error { return tap("中文") },
		func() error { return shoot("idle") },
		func() error { return typeCard(k, card.CardID, wait) },
		func() error { return shoot("card") },
		func() error { return tap(item.Name + "  ") },
		func() error { return wait(ui.ScreenConfirm) },
		func() error { return shoot("confirm") },
		// ui's catalogue: mConfirm in Chinese.
		func() error { return tap("确认支付") },
		func() error { return wait(ui.ScreenResult) },
		func() error { return shoot("receipt") },
	}
	// A payment above the demo's password-free ¥20.00 (issue 15): the
	// card's password keypad, a wrong password, then the right one. The
	// parent checks that neither shows up in the log, the journal, the
	// metrics or the state file.
	keys := func(s string) error {
		for _, r := range s {
			if err := tap(string(r)); err != nil {
				return err
			}
		}
		return nil
	}
	steps = append(steps,
		func() error { return typeCard(k, card.CardID, wait) },
		func() error { return tap("输入金额") },
		func() error { return keys("25") },
		func() error { return tap("确定") },
		func() error { return wait(ui.ScreenConfirm) },
		func() error { return tap("确认支付") },
		func() error { return wait(ui.ScreenPassword) },
		func() error { return keys(tourWrongPassword) },
		func() error { return tap("确认支付") },
		func() error { return wait(ui.ScreenPassword) },
		func() error { return keys(card.Password) },
		func() error { return shoot("password") },
		func() error { return tap("确认支付") },
		func() error { return wait(ui.ScreenResult) },
	)
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	if st := k.State(); st.LastResult != ui.ResultPaid {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the payment ended %q, not paid", st.LastResult))
	}
	return nil
}

// tourWrongPassword is the wrong card password the tour types first.
const tourWrongPassword = "909192"

// typeCard types a card number and Enter into the window, as a card
// reader in keyboard mode does, and waits for the card screen.
func typeCard(k *ui.Kiosk, id string, wait func(string) error) error {
	c := k.Window().Canvas()
	for _, r := range id {
		fyne.DoAndWait(func() { c.OnTypedRune()(r) })
	}
	fyne.DoAndWait(func() { c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	return wait(ui.ScreenCard)
}

// settledCapture captures the window from the X server's screen (an XWD
// file, Xvfb -fbdir) once two captures a moment apart agree: the window
// shows a changed screen from its next frame on. Without a window manager
// the window sits at the screen's top left.
func settledCapture(ctx context.Context, framebuffer string, c fyne.Canvas) (image.Image, error) {
	var win image.Rectangle
	fyne.DoAndWait(func() {
		size, scale := c.Size(), c.Scale()
		win = image.Rect(0, 0, int(size.Width*scale), int(size.Height*scale))
	})
	capture := func() (image.Image, error) {
		data, err := os.ReadFile(framebuffer)
		if err != nil {
			return nil, err
		}
		screen, err := decodeXWD(data)
		if err != nil {
			return nil, err
		}
		if !win.In(screen.Bounds()) {
			return nil, fmt.Errorf("the window (%v) is larger than the screen (%v)", win, screen.Bounds())
		}
		return screen.SubImage(win), nil
	}
	deadline := time.Now().Add(screenLimit)
	last, err := capture()
	for err == nil && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		var img image.Image
		if img, err = capture(); err == nil && sameImage(last, img) {
			return img, nil
		}
		last = img
	}
	if err != nil {
		return nil, err
	}
	return nil, errors.New("the window never held still")
}

// decodeXWD decodes an X window dump of a TrueColor screen, 32 bits a
// pixel, as Xvfb keeps its screen with -fbdir.
func decodeXWD(data []byte) (*image.RGBA, error) {
	if len(data) < 100 {
		return nil, errors.New("xwd: truncated header")
	}
	field := func(i int) int { return int(binary.BigEndian.Uint32(data[4*i:])) }
	headerSize, format, width, height := field(0), field(2), field(4), field(5)
	byteOrder, bitsPerPixel, bytesPerLine, colors := field(7), field(11), field(12), field(19)
	if format != 2 || bitsPerPixel != 32 || field(14) != 0xff0000 || field(15) != 0xff00 || field(16) != 0xff {
		return nil, fmt.Errorf("xwd: format %d, %d bits a pixel: want 2 (ZPixmap), 32, 8-bit red, green, blue", format, bitsPerPixel)
	}
	start := headerSize + 12*colors
	if start+bytesPerLine*height > len(data) || width*4 > bytesPerLine {
		return nil, errors.New("xwd: truncated pixels")
	}
	var order binary.ByteOrder = binary.BigEndian
	if byteOrder == 0 {
		order = binary.LittleEndian
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		row := data[start+y*bytesPerLine:]
		for x := range width {
			p := order.Uint32(row[4*x:])
			img.SetRGBA(x, y, color.RGBA{R: uint8(p >> 16), G: uint8(p >> 8), B: uint8(p), A: 0xff})
		}
	}
	return img, nil
}

// drawnTexts lists the texts o draws: the canvas.Text objects of its
// containers and of its widgets' renderers (made afresh and laid out at
// the widget's size, as Fyne's test.LaidOutObjects does: the same texts
// and styles as those drawn).
func drawnTexts(o fyne.CanvasObject, out []*canvas.Text) []*canvas.Text {
	if !o.Visible() {
		return out
	}
	switch c := o.(type) {
	case *canvas.Text:
		if strings.TrimSpace(c.Text) != "" {
			out = append(out, c)
		}
	case fyne.Widget:
		r := c.CreateRenderer()
		r.Layout(c.Size())
		for _, child := range r.Objects() {
			out = drawnTexts(child, out)
		}
	case *fyne.Container:
		for _, child := range c.Objects {
			out = drawnTexts(child, out)
		}
	}
	return out
}

// buttons lists the buttons of o's containers.
func buttons(o fyne.CanvasObject, out []*widget.Button) []*widget.Button {
	switch c := o.(type) {
	case *widget.Button:
		out = append(out, c)
	case *fyne.Container:
		for _, child := range c.Objects {
			out = buttons(child, out)
		}
	}
	return out
}

// fontFaces resolves characters to faces as Fyne does (v2.7,
// internal/painter's CachedFontFace and lookupFaces): for a text style,
// the first face that maps the character of the theme's font of the
// style, then Fyne's own font of that style. After those Fyne tries its
// emoji font and the system's fonts: a character only they have is drawn
// with a font the kiosk did not choose, or as a box.
type fontFaces struct {
	th     fyne.Theme
	parsed map[fyne.Resource]*font.Face
}

func (f *fontFaces) face(res fyne.Resource) *font.Face {
	if face, ok := f.parsed[res]; ok {
		return face
	}
	face, err := font.ParseTTF(bytes.NewReader(res.Content()))
	if err != nil {
		face = nil // maps nothing: every character then counts as missing
	}
	f.parsed[res] = face
	return face
}

// unresolved returns the characters of text, sorted and once each, that
// no face the kiosk gave Fyne for style maps; spaces, controls and format
// characters are passed over (go-text chooses no face for them).
func (f *fontFaces) unresolved(style fyne.TextStyle, text string) string {
	// Fyne's own font of a style is its default theme's.
	faces := []*font.Face{f.face(f.th.Font(style)), f.face(theme.DefaultTheme().Font(style))}
	var out []rune
	for _, r := range text {
		if unicode.In(r, unicode.Z, unicode.Cc, unicode.Cf) || slices.Contains(out, r) {
			continue
		}
		if !slices.ContainsFunc(faces, func(face *font.Face) bool {
			if face == nil {
				return false
			}
			_, ok := face.NominalGlyph(r)
			return ok
		}) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return string(out)
}

// styleName names a text style for a message: "bold", "regular".
func styleName(s fyne.TextStyle) string {
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Bold, "bold"}, {s.Italic, "italic"}, {s.Monospace, "monospace"}, {s.Symbol, "symbol"}} {
		if f.on {
			out = append(out, f.name)
		}
	}
	if len(out) == 0 {
		return "regular"
	}
	return strings.Join(out, " ")
}

// codePoints writes characters as code points, readable where they are
// boxes.
func codePoints(s string) string {
	var out []string
	for _, r := range s {
		out = append(out, fmt.Sprintf("U+%04X", r))
	}
	return strings.Join(out, " ")
}
