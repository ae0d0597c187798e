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

// render draws the machine's current screen. Screens are
// rebuilt whole on every change: they are small, and a screen that is a
// function of the state cannot show a stale widget.
func (k *Kiosk) render() {
	// The GL driver animates an infinite progress bar until it is
	// stopped, on screen or not.
	if k.spinner != nil {
		k.spinner.Stop()
		k.spinner = nil
	}
	var body fyne.CanvasObject
	switch k.m.screen {
	case ScreenIdle:
		if k.m.mode == ModeCanteen {
			body = k.canteenHome()
		} else {
			body = k.idleScreen()
		}
	case ScreenLookup:
		body = k.progressScreen(k.tx.t(mLookingUp), k.button(k.tx.t(mCancel), k.feed(k.m.goHome)))
	case ScreenCard:
		body = k.cardScreen()
	case ScreenAmount:
		body = k.amountScreen()
	case ScreenConfirm:
		body = k.confirmScreen()
	case ScreenPaying:
		body = k.progressScreen(k.tx.t(mPaying), nil)
	case ScreenResult:
		body = k.resultScreen()
	case ScreenArmed:
		body = k.armedScreen(nil)
	case ScreenPIN:
		body = k.pinScreen()
	case ScreenDiagnostics:
		body = k.diagnosticsScreen()
	}
	k.bar.update()
	k.win.SetContent(container.NewBorder(k.bar.obj, nil, nil, nil, container.NewPadded(body)))
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

// vcenter stacks objects in the middle of the screen at its full width,
// which wrapping labels need to know how tall they are.
func vcenter(objs ...fyne.CanvasObject) *fyne.Container {
	box := container.NewVBox(layout.NewSpacer())
	for _, o := range objs {
		box.Add(o)
	}
	box.Add(layout.NewSpacer())
	return box
}

func (k *Kiosk) idleScreen() fyne.CanvasObject {
	return vcenter(
		heading(k.tx.t(mIdleTitle), widget.MediumImportance),
		plain(k.tx.t(mIdleHint), widget.MediumImportance),
	)
}

func (k *Kiosk) progressScreen(what string, cancel *widget.Button) fyne.CanvasObject {
	k.spinner = widget.NewProgressBarInfinite()
	objs := []fyne.CanvasObject{subheading(what, widget.MediumImportance), k.spinner}
	if cancel != nil {
		objs = append(objs, container.NewCenter(cancel))
	}
	return vcenter(objs...)
}

func (k *Kiosk) cardScreen() fyne.CanvasObject {
	tx, c := k.tx, k.m.card
	top := container.NewVBox(
		heading(tx.t(mCardholder, c.name), widget.MediumImportance),
		subheading(tx.t(mBalance, c.balance.String()), widget.MediumImportance),
		plain(tx.t(mAccount, agent.MaskAccount(c.account)), widget.MediumImportance),
	)
	if c.cached {
		top.Add(plain(tx.t(mCardOffline), widget.WarningImportance))
	}
	cancel := k.button(tx.t(mCancel), k.feed(k.m.goHome))
	if c.refusal != "" {
		top.Add(heading(tx.t(c.refusal), widget.DangerImportance))
		return container.NewBorder(top, container.NewCenter(cancel), nil, nil)
	}
	top.Add(plain(tx.t(mChoose), widget.MediumImportance))
	menu := container.NewGridWithColumns(3)
	for _, it := range k.opts.Menu {
		menu.Add(k.button(it.Name+"  "+it.Price.String(), func() { k.apply(k.m.choose(it.Name, it.Price)) }))
	}
	other := k.button(tx.t(mOtherAmount), k.feed(k.m.otherAmount))
	return container.NewBorder(top, container.NewGridWithColumns(2, cancel, other), nil, nil, menu)
}

// middleThird gives obj the middle third of the width and all the height:
// a keypad as tall as the screen allows, not as wide.
func middleThird(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewGridWithColumns(3, layout.NewSpacer(), obj, layout.NewSpacer())
}

// keypad is a 4×3 grid of large keys; last are the two keys below 9
// beside 0 ("." and "del" for amounts, "clear" and "del" for a PIN).
func (k *Kiosk) keypad(left string, onKey func(key string)) fyne.CanvasObject {
	grid := container.NewGridWithColumns(3)
	for _, key := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", left, "0", "del"} {
		label := key
		switch key {
		case "del":
			label = k.tx.t(mDel)
		case "clear":
			label = k.tx.t(mClear)
		}
		grid.Add(k.button(label, func() { onKey(key) }))
	}
	return grid
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

// amountHeader is the title, the amount typed and its error.
func (k *Kiosk) amountHeader(title string) *fyne.Container {
	top := container.NewVBox(subheading(title, widget.MediumImportance), heading(amountDisplay(k.m.entry), widget.MediumImportance))
	if k.m.entryErr {
		top.Add(plain(k.tx.t(mAmountInvalid), widget.DangerImportance))
	}
	return top
}

func (k *Kiosk) amountScreen() fyne.CanvasObject {
	ok := k.primary(k.tx.t(mOK), k.feed(k.m.chooseEntry))
	bottom := container.NewGridWithColumns(2, k.button(k.tx.t(mCancel), k.feed(k.m.goHome)), ok)
	return container.NewBorder(k.amountHeader(k.tx.t(mAmountTitle)), bottom, nil, nil, middleThird(k.keypad(".", k.keyAmount)))
}

func (k *Kiosk) confirmScreen() fyne.CanvasObject {
	tx := k.tx
	objs := []fyne.CanvasObject{heading(tx.t(mConfirmTitle, k.m.amount.String()), widget.MediumImportance)}
	if k.m.item != "" {
		objs = append(objs, subheading(k.m.item, widget.MediumImportance))
	}
	objs = append(objs, plain(tx.t(mConfirmCard, k.m.card.name), widget.MediumImportance))
	box := vcenter(objs...)
	buttons := container.NewGridWithColumns(2, k.button(tx.t(mCancel), k.feed(k.m.goHome)), k.primary(tx.t(mConfirm), k.feed(k.m.confirm)))
	return container.NewBorder(nil, buttons, nil, nil, box)
}

// outcomeBox shows an outcome big, for reading from a step away.
func (k *Kiosk) outcomeBox() fyne.CanvasObject {
	o := k.word(k.m.verdict)
	objs := []fyne.CanvasObject{heading(o.title, o.importance)}
	for _, l := range o.lines {
		objs = append(objs, subheading(l, widget.MediumImportance))
	}
	return vcenter(objs...)
}

func (k *Kiosk) resultScreen() fyne.CanvasObject {
	if k.m.mode == ModeCanteen && k.m.armed {
		return k.armedScreen(k.outcomeBox())
	}
	return container.NewBorder(nil, container.NewCenter(k.primary(k.tx.t(mDone), k.feed(k.m.goHome))), nil, nil, k.outcomeBox())
}

func (k *Kiosk) canteenHome() fyne.CanvasObject {
	tx := k.tx
	top := k.amountHeader(tx.t(mCanteenTitle))
	if k.m.notice != "" {
		top.Add(plain(tx.t(k.m.notice), widget.WarningImportance))
	}
	prices := container.NewGridWithColumns(2)
	for _, it := range k.opts.Menu {
		prices.Add(k.button(it.Name+"  "+it.Price.String(), func() { k.apply(k.m.arm(it.Price)) }))
	}
	arm := k.primary(tx.t(mArm), k.feed(k.m.armEntry))
	return container.NewBorder(top, arm, nil, nil, container.NewGridWithColumns(2, k.keypad(".", k.keyAmount), prices))
}

// armedScreen is the canteen's resting screen: the amount armed, big, and
// the last outcome under it while the next student steps up.
func (k *Kiosk) armedScreen(last fyne.CanvasObject) fyne.CanvasObject {
	tx := k.tx
	top := container.NewVBox(heading(tx.t(mArmed, k.m.amount.String()), widget.HighImportance))
	center := fyne.CanvasObject(vcenter(subheading(tx.t(mNextStudent), widget.MediumImportance)))
	if last != nil {
		// The result's colour fills the middle of the screen, so that a
		// cashier sees paid or not from a step away, between two students.
		center = container.NewStack(canvas.NewRectangle(k.flashColor()), last)
	}
	return container.NewBorder(top, container.NewCenter(k.button(tx.t(mDisarm), k.feed(k.m.disarm))), nil, nil, center)
}

// flashColor is the canteen result's background: a light tint of the
// outcome's colour (green paid, red refused, amber will-be-confirmed).
func (k *Kiosk) flashColor() color.Color {
	imp := k.word(k.m.verdict).importance
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

func (k *Kiosk) pinScreen() fyne.CanvasObject {
	tx := k.tx
	// One dot a digit: who stands behind the technician sees how many,
	// never which.
	top := container.NewVBox(subheading(tx.t(mPINTitle), widget.MediumImportance),
		heading(strings.Repeat(pinDot, utf8.RuneCountInString(k.m.pinEntry))+" ", widget.MediumImportance))
	switch until := k.m.pinLockedUntil; {
	case until.After(k.opts.Now()):
		top.Add(plain(tx.t(mPINLocked, until.In(k.deps.Agent.Options().Location).Format("15:04")), widget.DangerImportance))
	case k.m.pinWrong:
		top.Add(plain(tx.t(mPINWrong, k.m.pinTriesLeft), widget.DangerImportance))
	}
	pad := k.keypad("clear", func(key string) { k.apply(k.m.keyPIN(key)) })
	bottom := container.NewGridWithColumns(2, k.button(tx.t(mCancel), k.feed(k.m.goHome)), k.primary(tx.t(mOK), k.feed(k.m.submitPIN)))
	return container.NewBorder(top, bottom, nil, nil, middleThird(pad))
}

// diagnosticsScreen: what the terminal knows on the left, what a
// technician can do on the right.
func (k *Kiosk) diagnosticsScreen() fyne.CanvasObject {
	tx := k.tx
	left := func(s string, imp widget.Importance) *widget.Label {
		l := plain(s, imp)
		l.Alignment = fyne.TextAlignLeading
		return l
	}
	info := container.NewVBox()
	since := k.since.Format("2006-01-02 15:04:05")
	if k.online {
		info.Add(left(tx.t(mDiagOnline, since), widget.SuccessImportance))
	} else {
		info.Add(left(tx.t(mDiagOffline, since), widget.DangerImportance))
	}
	info.Add(left(tx.t(mDiagUnfin, k.unfinished), widget.MediumImportance))
	if k.diagMsg != "" {
		info.Add(left(k.diagMsg, widget.HighImportance))
	}
	info.Add(left(tx.t(mDevices), widget.MediumImportance))
	if len(k.devices) == 0 {
		info.Add(left(tx.t(mNoDevices), widget.MediumImportance))
	}
	for _, d := range k.devices {
		if d.Connected {
			info.Add(left(tx.t(mDeviceUp, d.Name, d.Scans, d.Dropped), widget.MediumImportance))
		} else {
			info.Add(left(tx.t(mDeviceDown, d.Name, d.LastError), widget.DangerImportance))
		}
	}
	if k.lastScan == "" {
		info.Add(left(tx.t(mNoScan), widget.MediumImportance))
	} else {
		info.Add(left(tx.t(mLastScan, k.lastScan), widget.MediumImportance))
	}
	for _, w := range k.Warnings() {
		info.Add(left(w, widget.WarningImportance))
	}
	k.diagSections(info)

	actions := container.NewVBox(k.button(tx.t(mReconcile), k.reconcile), k.button(tx.t(mRefresh), k.refreshDiagnostics))
	modes := container.NewGridWithColumns(2)
	for _, m := range []struct {
		mode  Mode
		label msg
	}{{ModeKiosk, mModeKiosk}, {ModeCanteen, mModeCanteen}} {
		b := k.button(tx.t(m.label), func() { k.apply(k.m.setMode(m.mode)) })
		if k.m.mode == m.mode {
			b.Importance = widget.HighImportance
		}
		modes.Add(b)
	}
	actions.Add(modes)
	actions.Add(k.button(k.langLabel(), k.toggleLang))
	for _, a := range k.deps.Extra {
		actions.Add(k.button(a.Label, func() { k.runExtra(a) }))
	}
	return container.NewBorder(subheading(tx.t(mDiagTitle), widget.MediumImportance),
		container.NewCenter(k.primary(tx.t(mBack), k.feed(k.m.goHome))), nil, nil,
		container.NewGridWithColumns(2, container.NewVScroll(info), container.NewVScroll(actions)))
}
