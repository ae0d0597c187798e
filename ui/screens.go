package ui

import (
	"image/color"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/campuspos/kiosk/agent"
)

// The screens are built once, by buildScreens (New), and updated in place:
// render gives the widgets of the machine's current screen the state's
// texts and puts that screen's root under the status bar. A payment makes
// no widget. Rebuilding the screens on every show cost each payment
// megabytes of garbage and its widgets' renderers, which Fyne keeps for a
// minute (issue 14; docs/BENCHMARKS.md); a screen updated in place also
// cannot lose a tap to a redraw under the finger.
//
// Every screen's update sets all it shows, texts and the lines present,
// from the machine and the Kiosk's fields: it never depends on what the
// screen showed before, so that a screen that is a function of the state
// cannot show a stale widget, and a language switch is a render.

// screens holds every screen's widgets (UI goroutine only).
type screens struct {
	idle           idleView
	lookup, paying progressView
	card           cardView
	amount         amountView
	confirm        confirmView
	result         resultView
	canteen        canteenView
	armed          armedView
	pin, password  secretView
	diag           diagView
}

// render shows the machine's current screen.
func (k *Kiosk) render() {
	shown := k.spinner
	k.spinner = nil // set by the screen update when it shows one
	body := k.currentScreen()
	// The GL driver animates an infinite progress bar until it is
	// stopped, on screen or not. A bar coming on screen is stopped first:
	// Fyne marks a bar running when it makes its renderer, without
	// starting the animation, which only a start from stopped does.
	if shown != nil && shown != k.spinner {
		shown.Stop()
	}
	if k.spinner != nil && k.spinner != shown {
		k.spinner.Stop()
		k.spinner.Start()
	}
	k.bar.update()
	c := k.win.Canvas()
	if k.page.Objects[0] != body {
		k.page.Objects[0] = body
		// A screen comes up unfocused, as a new window content would.
		if c.Focused() != nil {
			c.Unfocus()
		}
	}
	relayout(k.frame)
	// Repaint: the lines a screen shows may have changed without any of
	// them changing its text.
	c.Refresh(k.page)
	if k.newTexts >= textureFlushEvery {
		// Fyne's GL driver keeps a texture of every string it has drawn
		// until a minute after its last use, and the screens draw new
		// strings with every payment (a transaction number, a balance):
		// at ten payments a second, ~1,200 textures, which on Mesa's
		// software GL grew the kiosk by ~35 MiB in 300 payments. Setting
		// the window's content again is the one way to drop them (the GL
		// driver deletes the canvas's text textures and draws again what
		// is on screen), which the kiosk used to do on every render.
		k.newTexts = 0
		k.win.SetContent(k.frame)
	}
}

// textureFlushEvery is how many text changes the screens make between two
// flushes of the window's text textures (render): it bounds them to a few
// MiB, and a flush, which draws every text on screen again, comes every
// dozen or so payments (two new strings a payment, and a few that recur,
// such as the unfinished count going up and down again).
const textureFlushEvery = 64

// currentScreen updates the machine's current screen and returns its root.
func (k *Kiosk) currentScreen() fyne.CanvasObject {
	switch k.m.screen {
	case ScreenLookup:
		return k.progressScreen(&k.s.lookup, mLookingUp)
	case ScreenCard:
		return k.cardScreen()
	case ScreenAmount:
		return k.amountScreen()
	case ScreenConfirm:
		return k.confirmScreen()
	case ScreenPaying:
		return k.progressScreen(&k.s.paying, mPaying)
	case ScreenResult:
		return k.resultScreen()
	case ScreenArmed:
		return k.armedScreen(false)
	case ScreenPassword:
		return k.passwordScreen()
	case ScreenPIN:
		return k.pinScreen()
	case ScreenDiagnostics:
		return k.diagnosticsScreen()
	}
	if k.m.mode == ModeCanteen {
		return k.canteenHome()
	}
	return k.idleScreen()
}

// relayout lays out o's containers afresh, top down, at the sizes they
// have. A screen updated in place changes its texts and lines without a
// container changing size, and a container lays itself out only when its
// size changes: Fyne's GL driver catches up at its next frame (a minimum
// size changed), its test driver never, and a screen set as the window's
// new content used to be laid out whole.
func relayout(o fyne.CanvasObject) {
	switch c := o.(type) {
	case *fyne.Container:
		if c.Hidden {
			return
		}
		if c.Layout != nil {
			c.Layout.Layout(c.Objects, c.Size())
		}
		for _, child := range c.Objects {
			relayout(child)
		}
	case *container.Scroll:
		c.Refresh() // sizes the content to its new minimum
		relayout(c.Content)
	}
}

// buildScreens makes every screen's widgets, once (New).
func (k *Kiosk) buildScreens() {
	s := &k.s
	s.idle = newIdleView()
	s.lookup = newProgressView(k.button("", k.feed(k.m.goHome)))
	s.paying = newProgressView(nil)
	s.card = k.newCardView()
	s.amount = k.newAmountView()
	s.confirm = k.newConfirmView()
	s.result = k.newResultView()
	s.canteen = k.newCanteenView()
	s.armed = k.newArmedView()
	s.pin = k.newSecretView(k.m.keyPIN, k.m.submitPIN)
	s.password = k.newSecretView(k.m.keyPassword, k.m.submitPassword)
	s.diag = k.newDiagView()
}

// text makes a centred, wrapping label of a theme size.
func text(s string, size fyne.ThemeSizeName, imp widget.Importance) *widget.Label {
	l := widget.NewLabel(s)
	l.Alignment = fyne.TextAlignCenter
	l.Wrapping = fyne.TextWrapWord
	l.SizeName = size
	l.Importance = imp
	return l
}

func heading(s string, imp widget.Importance) *widget.Label {
	l := text(s, theme.SizeNameHeadingText, imp)
	l.TextStyle.Bold = true
	return l
}

func subheading(s string, imp widget.Importance) *widget.Label {
	return text(s, theme.SizeNameSubHeadingText, imp)
}

func plain(s string, imp widget.Importance) *widget.Label {
	return text(s, theme.SizeNameText, imp)
}

func (k *Kiosk) primary(label string, tapped func()) *widget.Button {
	b := k.button(label, tapped)
	b.Importance = widget.HighImportance
	return b
}

// setLabel shows s in l, refreshing l only when it changes: a refresh
// measures the text again.
func (k *Kiosk) setLabel(l *widget.Label, s string, imp widget.Importance) {
	if k.change(&l.Text, &l.Importance, s, imp) {
		l.Refresh()
	}
}

// setButton labels b, refreshing it only when it changes.
func (k *Kiosk) setButton(b *widget.Button, s string, imp widget.Importance) {
	if k.change(&b.Text, &b.Importance, s, imp) {
		b.Refresh()
	}
}

// change sets a widget's text and importance to s and imp, reporting
// whether either changed; a new text counts towards the next flush of the
// window's text textures (render).
func (k *Kiosk) change(text *string, imp *widget.Importance, s string, want widget.Importance) bool {
	if *text == s && *imp == want {
		return false
	}
	if *text != s {
		k.newTexts++
		k.cover(s) // a character the font was not cut with: cut it in first
	}
	*text, *imp = s, want
	return true
}

// column is a vertical box of lines that come and go: set lists the ones
// shown, out of widgets kept between shows, in the box's own slice. A
// centred column holds its lines in the middle of the screen at its full
// width, which wrapping labels need to know how tall they are.
type column struct {
	box         *fyne.Container
	top, bottom fyne.CanvasObject // spacers of a centred column, else nil
}

func newColumn(centred bool) column {
	c := column{box: container.NewVBox()}
	if centred {
		c.top, c.bottom = layout.NewSpacer(), layout.NewSpacer()
	}
	return c
}

// set shows objs, in order.
func (c *column) set(objs ...fyne.CanvasObject) {
	o := c.box.Objects[:0]
	if c.top != nil {
		o = append(o, c.top)
	}
	o = append(o, objs...)
	if c.bottom != nil {
		o = append(o, c.bottom)
	}
	c.box.Objects = o
}

// middleThird gives obj the middle third of the width and all the height:
// a keypad as tall as the screen allows, not as wide.
func middleThird(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewGridWithColumns(3, layout.NewSpacer(), obj, layout.NewSpacer())
}

// keypad is a 4×3 grid of large keys; the last row is left, 0 and "del",
// left being "." for amounts, "clear" for a PIN (worded by update, as
// "del" is).
type keypad struct {
	grid      *fyne.Container
	left, del *widget.Button
	leftKey   string
}

func (k *Kiosk) newKeypad(left string, onKey func(key string)) keypad {
	p := keypad{grid: container.NewGridWithColumns(3), leftKey: left}
	for _, key := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", left, "0", "del"} {
		b := k.button(key, func() { onKey(key) })
		switch key {
		case left:
			p.left = b
		case "del":
			p.del = b
		}
		p.grid.Add(b)
	}
	return p
}

// update words the keys that have words, in the language shown.
func (p *keypad) update(k *Kiosk) {
	k.setButton(p.del, k.tx.t(mDel), p.del.Importance)
	if p.leftKey == "clear" {
		k.setButton(p.left, k.tx.t(mClear), p.left.Importance)
	}
}

// amountDisplay shows an amount being typed.
func amountDisplay(entry string) string {
	if entry == "" {
		return "¥0.00"
	}
	return "¥" + entry
}

// keyAmount edits the amount being typed.
func (k *Kiosk) keyAmount(key string) { k.apply(k.m.keyAmount(key)) }

// menuLabel is a menu item's button: its name and price.
func menuLabel(it MenuItem) string { return it.Name + "  " + it.Price.String() }

type idleView struct {
	col         column
	title, hint *widget.Label
}

func newIdleView() idleView {
	v := idleView{col: newColumn(true), title: heading("", widget.MediumImportance), hint: plain("", widget.MediumImportance)}
	v.col.set(v.title, v.hint)
	return v
}

func (k *Kiosk) idleScreen() fyne.CanvasObject {
	v := &k.s.idle
	k.setLabel(v.title, k.tx.t(mIdleTitle), widget.MediumImportance)
	k.setLabel(v.hint, k.tx.t(mIdleHint), widget.MediumImportance)
	return v.col.box
}

// progressView is a wait: what for, a progress bar, and a Cancel button
// when the wait can be abandoned.
type progressView struct {
	col     column
	what    *widget.Label
	spinner *widget.ProgressBarInfinite
	cancel  *widget.Button // nil: nothing to cancel
}

func newProgressView(cancel *widget.Button) progressView {
	v := progressView{col: newColumn(true), what: subheading("", widget.MediumImportance),
		spinner: widget.NewProgressBarInfinite(), cancel: cancel}
	if cancel != nil {
		v.col.set(v.what, v.spinner, container.NewCenter(cancel))
	} else {
		v.col.set(v.what, v.spinner)
	}
	return v
}

func (k *Kiosk) progressScreen(v *progressView, what msg) fyne.CanvasObject {
	k.setLabel(v.what, k.tx.t(what), widget.MediumImportance)
	if v.cancel != nil {
		k.setButton(v.cancel, k.tx.t(mCancel), v.cancel.Importance)
	}
	k.spinner = v.spinner
	return v.col.box
}

// cardView is the card found: who, the balance, and the menu; or why the
// card cannot pay, with only Cancel under it.
type cardView struct {
	root *fyne.Container // Border: top, bottom and, when the card may pay, menu
	top  column
	// bottom holds choose (Cancel, Other amount) or the refusal's Cancel.
	bottom, choose, refusedCancel *fyne.Container
	menu                          *fyne.Container

	name, balance, account, offline, refusal, hint *widget.Label
	cancel, cancelRefused, other                   *widget.Button
	lines                                          []fyne.CanvasObject // scratch for top
}

func (k *Kiosk) newCardView() cardView {
	v := cardView{
		top:  newColumn(false),
		name: heading("", widget.MediumImportance), balance: subheading("", widget.MediumImportance),
		account: plain("", widget.MediumImportance), offline: plain("", widget.WarningImportance),
		refusal: heading("", widget.DangerImportance), hint: plain("", widget.MediumImportance),
		cancel: k.button("", k.feed(k.m.goHome)), cancelRefused: k.button("", k.feed(k.m.goHome)),
		other: k.button("", k.feed(k.m.otherAmount)),
		menu:  container.NewGridWithColumns(3),
	}
	for _, it := range k.opts.Menu {
		v.menu.Add(k.button(menuLabel(it), func() { k.apply(k.m.choose(it.Name, it.Price)) }))
	}
	v.choose = container.NewGridWithColumns(2, v.cancel, v.other)
	v.refusedCancel = container.NewCenter(v.cancelRefused)
	v.bottom = container.NewStack()
	v.root = container.NewBorder(v.top.box, v.bottom, nil, nil, v.menu)
	return v
}

func (k *Kiosk) cardScreen() fyne.CanvasObject {
	tx, c, v := k.tx, k.m.card, &k.s.card
	k.setLabel(v.name, tx.t(mCardholder, c.name), widget.MediumImportance)
	k.setLabel(v.balance, tx.t(mBalance, c.balance.String()), widget.MediumImportance)
	k.setLabel(v.account, tx.t(mAccount, agent.MaskAccount(c.account)), widget.MediumImportance)
	v.lines = append(v.lines[:0], v.name, v.balance, v.account)
	if c.cached {
		k.setLabel(v.offline, tx.t(mCardOffline), widget.WarningImportance)
		v.lines = append(v.lines, v.offline)
	}
	// Border's objects in the order container.NewBorder gives them:
	// the centre first.
	if c.refusal != "" {
		k.setLabel(v.refusal, tx.t(c.refusal), widget.DangerImportance)
		k.setButton(v.cancelRefused, tx.t(mCancel), v.cancelRefused.Importance)
		v.lines = append(v.lines, v.refusal)
		v.bottom.Objects = append(v.bottom.Objects[:0], v.refusedCancel)
		v.root.Objects = append(v.root.Objects[:0], v.top.box, v.bottom)
	} else {
		k.setLabel(v.hint, tx.t(mChoose), widget.MediumImportance)
		k.setButton(v.cancel, tx.t(mCancel), v.cancel.Importance)
		k.setButton(v.other, tx.t(mOtherAmount), v.other.Importance)
		v.lines = append(v.lines, v.hint)
		v.bottom.Objects = append(v.bottom.Objects[:0], v.choose)
		v.root.Objects = append(v.root.Objects[:0], v.menu, v.top.box, v.bottom)
	}
	v.top.set(v.lines...)
	return v.root
}

// amountHeader is the title, the amount typed and its error, and any
// further lines.
type amountHeader struct {
	col                    column
	title, amount, invalid *widget.Label
	lines                  []fyne.CanvasObject // scratch
}

func newAmountHeader() amountHeader {
	return amountHeader{col: newColumn(false), title: subheading("", widget.MediumImportance),
		amount: heading("", widget.MediumImportance), invalid: plain("", widget.DangerImportance)}
}

func (k *Kiosk) showAmountHeader(h *amountHeader, title string, more ...fyne.CanvasObject) {
	k.setLabel(h.title, title, widget.MediumImportance)
	k.setLabel(h.amount, amountDisplay(k.m.entry), widget.MediumImportance)
	h.lines = append(h.lines[:0], h.title, h.amount)
	if k.m.entryErr {
		k.setLabel(h.invalid, k.tx.t(mAmountInvalid), widget.DangerImportance)
		h.lines = append(h.lines, h.invalid)
	}
	h.lines = append(h.lines, more...)
	h.col.set(h.lines...)
}

type amountView struct {
	root       fyne.CanvasObject
	header     amountHeader
	pad        keypad
	cancel, ok *widget.Button
}

func (k *Kiosk) newAmountView() amountView {
	v := amountView{header: newAmountHeader(), pad: k.newKeypad(".", k.keyAmount),
		cancel: k.button("", k.feed(k.m.goHome)), ok: k.primary("", k.feed(k.m.chooseEntry))}
	v.root = container.NewBorder(v.header.col.box, container.NewGridWithColumns(2, v.cancel, v.ok), nil, nil, middleThird(v.pad.grid))
	return v
}

func (k *Kiosk) amountScreen() fyne.CanvasObject {
	v := &k.s.amount
	k.showAmountHeader(&v.header, k.tx.t(mAmountTitle))
	v.pad.update(k)
	k.setButton(v.cancel, k.tx.t(mCancel), v.cancel.Importance)
	k.setButton(v.ok, k.tx.t(mOK), v.ok.Importance)
	return v.root
}

type confirmView struct {
	root              fyne.CanvasObject
	col               column
	title, item, card *widget.Label
	cancel, confirm   *widget.Button
}

func (k *Kiosk) newConfirmView() confirmView {
	v := confirmView{col: newColumn(true), title: heading("", widget.MediumImportance),
		item: subheading("", widget.MediumImportance), card: plain("", widget.MediumImportance),
		cancel: k.button("", k.feed(k.m.goHome)), confirm: k.primary("", k.feed(k.m.confirm))}
	v.root = container.NewBorder(nil, container.NewGridWithColumns(2, v.cancel, v.confirm), nil, nil, v.col.box)
	return v
}

func (k *Kiosk) confirmScreen() fyne.CanvasObject {
	tx, v := k.tx, &k.s.confirm
	k.setLabel(v.title, tx.t(mConfirmTitle, k.m.amount.String()), widget.MediumImportance)
	k.setLabel(v.card, tx.t(mConfirmCard, k.m.card.name), widget.MediumImportance)
	if k.m.item != "" {
		k.setLabel(v.item, k.m.item, widget.MediumImportance)
		v.col.set(v.title, v.item, v.card)
	} else {
		v.col.set(v.title, v.card)
	}
	k.setButton(v.cancel, tx.t(mCancel), v.cancel.Importance)
	k.setButton(v.confirm, tx.t(mConfirm), v.confirm.Importance)
	return v.root
}

// outcomeView shows an outcome big, for reading from a step away: its
// title and as many lines under it as it has (labels made as needed, kept
// for the next).
type outcomeView struct {
	col   column
	title *widget.Label
	lines []*widget.Label
	shown []fyne.CanvasObject // scratch
}

func newOutcomeView() outcomeView {
	return outcomeView{col: newColumn(true), title: heading("", widget.MediumImportance)}
}

func (v *outcomeView) show(k *Kiosk, o outcome) {
	k.setLabel(v.title, o.title, o.importance)
	v.shown = append(v.shown[:0], v.title)
	for i, s := range o.lines {
		if i == len(v.lines) {
			v.lines = append(v.lines, subheading("", widget.MediumImportance))
		}
		k.setLabel(v.lines[i], s, widget.MediumImportance)
		v.shown = append(v.shown, v.lines[i])
	}
	v.col.set(v.shown...)
}

type resultView struct {
	root    fyne.CanvasObject
	outcome outcomeView
	done    *widget.Button
}

func (k *Kiosk) newResultView() resultView {
	v := resultView{outcome: newOutcomeView(), done: k.primary("", k.feed(k.m.goHome))}
	v.root = container.NewBorder(nil, container.NewCenter(v.done), nil, nil, v.outcome.col.box)
	return v
}

func (k *Kiosk) resultScreen() fyne.CanvasObject {
	if k.m.mode == ModeCanteen && k.m.armed {
		return k.armedScreen(true)
	}
	v := &k.s.result
	v.outcome.show(k, k.word(k.m.verdict))
	k.setButton(v.done, k.tx.t(mDone), v.done.Importance)
	return v.root
}

type canteenView struct {
	root   fyne.CanvasObject
	header amountHeader
	notice *widget.Label
	pad    keypad
	arm    *widget.Button
}

func (k *Kiosk) newCanteenView() canteenView {
	v := canteenView{header: newAmountHeader(), notice: plain("", widget.WarningImportance),
		pad: k.newKeypad(".", k.keyAmount), arm: k.primary("", k.feed(k.m.armEntry))}
	prices := container.NewGridWithColumns(2)
	for _, it := range k.opts.Menu {
		prices.Add(k.button(menuLabel(it), func() { k.apply(k.m.arm(it.Price)) }))
	}
	v.root = container.NewBorder(v.header.col.box, v.arm, nil, nil, container.NewGridWithColumns(2, v.pad.grid, prices))
	return v
}

func (k *Kiosk) canteenHome() fyne.CanvasObject {
	tx, v := k.tx, &k.s.canteen
	if k.m.notice != "" {
		k.setLabel(v.notice, tx.t(k.m.notice), widget.WarningImportance)
		k.showAmountHeader(&v.header, tx.t(mCanteenTitle), v.notice)
	} else {
		k.showAmountHeader(&v.header, tx.t(mCanteenTitle))
	}
	v.pad.update(k)
	k.setButton(v.arm, tx.t(mArm), v.arm.Importance)
	return v.root
}

// armedView is the canteen's resting screen: the amount armed, big, and
// the last outcome under it while the next student steps up.
type armedView struct {
	root    fyne.CanvasObject
	title   *widget.Label
	center  *fyne.Container // Stack: next, or flash under outcome
	next    column
	nextMsg *widget.Label
	flash   *canvas.Rectangle
	outcome outcomeView
	disarm  *widget.Button
}

func (k *Kiosk) newArmedView() armedView {
	v := armedView{title: heading("", widget.HighImportance), center: container.NewStack(), next: newColumn(true),
		nextMsg: subheading("", widget.MediumImportance), flash: canvas.NewRectangle(color.Transparent),
		outcome: newOutcomeView(), disarm: k.button("", k.feed(k.m.disarm))}
	v.next.set(v.nextMsg)
	v.root = container.NewBorder(container.NewVBox(v.title), container.NewCenter(v.disarm), nil, nil, v.center)
	return v
}

// armedScreen shows the armed amount, with the last outcome when last.
func (k *Kiosk) armedScreen(last bool) fyne.CanvasObject {
	tx, v := k.tx, &k.s.armed
	k.setLabel(v.title, tx.t(mArmed, k.m.amount.String()), widget.HighImportance)
	k.setButton(v.disarm, tx.t(mDisarm), v.disarm.Importance)
	if !last {
		k.setLabel(v.nextMsg, tx.t(mNextStudent), widget.MediumImportance)
		v.center.Objects = append(v.center.Objects[:0], v.next.box)
		return v.root
	}
	o := k.word(k.m.verdict)
	v.outcome.show(k, o)
	// The result's colour fills the middle of the screen, so that a
	// cashier sees paid or not from a step away, between two students.
	if c := k.flashColor(o.importance); v.flash.FillColor != c {
		v.flash.FillColor = c
		v.flash.Refresh()
	}
	v.center.Objects = append(v.center.Objects[:0], v.flash, v.outcome.col.box)
	return v.root
}

// flashColor is the canteen result's background: a light tint of the
// outcome's colour (green paid, red refused, amber will-be-confirmed).
func (k *Kiosk) flashColor(imp widget.Importance) color.Color {
	th, v := k.app.Settings().Theme(), k.app.Settings().ThemeVariant()
	var name fyne.ThemeColorName
	switch imp {
	case widget.SuccessImportance:
		name = theme.ColorNameSuccess
	case widget.DangerImportance:
		name = theme.ColorNameError
	case widget.WarningImportance:
		name = theme.ColorNameWarning
	default:
		return color.Transparent
	}
	r, g, b, _ := th.Color(name, v).RGBA()
	// A quarter of the colour over the background keeps the text on top
	// readable in every variant.
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x40}
}

// pinDot stands for one typed digit of the PIN: the bullet, which Fyne's
// own text font (Noto Sans, every weight) has, whatever CJK font is loaded.
const pinDot = "•"

// secretView is a keypad for a secret (the diagnostics PIN, a card's
// password): a title, one dot a digit typed, a status line, Cancel and a
// submit button; no more lines than fit a 1024×600 screen.
type secretView struct {
	root                fyne.CanvasObject
	top                 column
	title, dots, status *widget.Label
	pad                 keypad
	cancel, ok          *widget.Button
}

func (k *Kiosk) newSecretView(key func(string) effect, submit func() effect) secretView {
	v := secretView{top: newColumn(false), title: subheading("", widget.MediumImportance),
		dots: heading("", widget.MediumImportance), status: plain("", widget.DangerImportance),
		pad:    k.newKeypad("clear", func(s string) { k.apply(key(s)) }),
		cancel: k.button("", k.feed(k.m.goHome)), ok: k.primary("", k.feed(submit))}
	v.root = container.NewBorder(v.top.box, container.NewGridWithColumns(2, v.cancel, v.ok), nil, nil, middleThird(v.pad.grid))
	return v
}

// show sets the view's texts: one dot a digit (who stands behind sees how
// many, never which), the status line when not "".
func (v *secretView) show(k *Kiosk, title string, digits int, status, ok string) fyne.CanvasObject {
	k.setLabel(v.title, title, widget.MediumImportance)
	k.setLabel(v.dots, strings.Repeat(pinDot, digits)+" ", widget.MediumImportance)
	if status != "" {
		k.setLabel(v.status, status, widget.DangerImportance)
		v.top.set(v.title, v.dots, v.status)
	} else {
		v.top.set(v.title, v.dots)
	}
	v.pad.update(k)
	k.setButton(v.cancel, k.tx.t(mCancel), v.cancel.Importance)
	k.setButton(v.ok, ok, v.ok.Importance)
	return v.root
}

func (k *Kiosk) pinScreen() fyne.CanvasObject {
	tx := k.tx
	status := ""
	switch until := k.m.pinLockedUntil; {
	case until.After(k.opts.Now()):
		status = tx.t(mPINLocked, until.In(k.deps.Agent.Options().Location).Format("15:04"))
	case k.m.pinWrong:
		status = tx.t(mPINWrong, k.m.pinTriesLeft)
	}
	return k.s.pin.show(k, tx.t(mPINTitle), utf8.RuneCountInString(k.m.pinEntry), status, tx.t(mOK))
}

// passwordScreen asks for the card's password. The digits typed are
// never drawn, only as many dots: a reference image, a screenshot or
// whoever stands behind the student sees how many, never which.
func (k *Kiosk) passwordScreen() fyne.CanvasObject {
	tx := k.tx
	status := ""
	if k.m.pwdWrong {
		status = tx.t(mPwdWrong, k.m.pwdTriesLeft)
	}
	return k.s.password.show(k, tx.t(mPwdTitle, k.m.amount.String()), len(k.m.pwd), status, tx.t(mConfirm))
}
