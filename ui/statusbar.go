package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
)

// statusBar is the strip on top of every screen: connectivity, unfinished
// orders, device problems, terminal id, clock, and the language and
// service buttons. Its widgets live as long as the window, so that events
// update them in place without redrawing the screen under a finger.
type statusBar struct {
	k                                       *Kiosk
	online, unfinished, device, term, clock *widget.Label
	lang, service                           *widget.Button
	obj                                     fyne.CanvasObject
}

func newStatusBar(k *Kiosk) *statusBar {
	b := &statusBar{
		k: k, online: widget.NewLabel(""), unfinished: widget.NewLabel(""), device: widget.NewLabel(""),
		term: widget.NewLabel(""), clock: widget.NewLabel(""),
	}
	b.online.TextStyle.Bold = true
	b.device.Importance = widget.DangerImportance
	b.lang = k.button("", k.toggleLang)
	b.service = k.button("", k.feed(k.m.openDiagnostics))
	b.service.Importance = widget.LowImportance
	row := container.NewHBox(b.online, b.unfinished, b.device, layout.NewSpacer(), b.term, b.clock, b.lang, b.service)
	b.obj = container.NewVBox(row, widget.NewSeparator())
	b.update()
	return b
}

// update sets the bar from the kiosk's fields (UI goroutine). Every
// render and every tick calls it: only what changed is refreshed, as a
// label's refresh measures its text again.
func (b *statusBar) update() {
	k := b.k
	tx := k.tx
	if k.online {
		k.setLabel(b.online, tx.t(mOnline), widget.SuccessImportance)
	} else {
		k.setLabel(b.online, tx.t(mOffline), widget.DangerImportance)
	}
	unfinished := widget.MediumImportance
	if k.unfinished > 0 {
		unfinished = widget.WarningImportance
	}
	k.setLabel(b.unfinished, tx.t(mUnfinished, k.unfinished), unfinished)
	problem := ""
	for _, d := range k.devices {
		if !d.Connected {
			problem = tx.t(mDeviceProblem)
			break
		}
	}
	k.setLabel(b.device, problem, widget.DangerImportance)
	k.setLabel(b.term, tx.t(mTerm, k.opts.TermID), widget.MediumImportance)
	k.setLabel(b.clock, k.opts.Now().Format("15:04"), widget.MediumImportance)
	k.setButton(b.lang, k.langLabel(), b.lang.Importance)
	k.setButton(b.service, tx.t(mService), b.service.Importance)
	// No diagnostics while a card is being looked up or charged.
	if k.m.busy() || k.m.inDiagnostics() {
		b.service.Disable()
	} else {
		b.service.Enable()
	}
}
