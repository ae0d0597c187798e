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

// update redraws the bar from the kiosk's fields (UI goroutine).
func (b *statusBar) update() {
	k := b.k
	tx := k.tx
	if k.online {
		b.online.SetText(tx.t(mOnline))
		b.online.Importance = widget.SuccessImportance
	} else {
		b.online.SetText(tx.t(mOffline))
		b.online.Importance = widget.DangerImportance
	}
	b.online.Refresh()
	b.unfinished.SetText(tx.t(mUnfinished, k.unfinished))
	if k.unfinished > 0 {
		b.unfinished.Importance = widget.WarningImportance
	} else {
		b.unfinished.Importance = widget.MediumImportance
	}
	b.unfinished.Refresh()
	problem := ""
	for _, d := range k.devices {
		if !d.Connected {
			problem = tx.t(mDeviceProblem)
			break
		}
	}
	b.device.SetText(problem)
	b.term.SetText(tx.t(mTerm, k.opts.TermID))
	b.clock.SetText(k.opts.Now().Format("15:04"))
	b.lang.SetText(k.langLabel())
	b.service.SetText(tx.t(mService))
	// No diagnostics while a card is being looked up or charged.
	if k.m.busy() || k.m.inDiagnostics() {
		b.service.Disable()
	} else {
		b.service.Enable()
	}
}
