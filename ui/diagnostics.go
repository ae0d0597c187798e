package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/campuspos/kiosk/agent"
)

// clockOffsetWarn is the clock offset shown in red: half the 6 minutes
// past which the platform refuses a request's timestamp.
const clockOffsetWarn = 3 * time.Minute

// logLinesShown is how many of the last log lines diagnostics shows.
const logLinesShown = 10

// diagInfo is what diagnostics reads from the journal, the token store
// and the log, off the UI goroutine, when it opens or is refreshed.
type diagInfo struct {
	loading bool // a load is in flight

	tokenRead bool
	token     agent.TokenInfo
	tokenErr  error

	countsRead bool // false: counting
	counts     map[agent.OrderState]int
	countsErr  error

	bills    []diagBill // today's and yesterday's, platform-local
	exposure *agent.OfflineExposure
	expErr   error

	logs []string
}

// diagBill is one day's bill reconciliation as the journal keeps it.
type diagBill struct {
	date string
	rep  agent.BillReport
	ok   bool
	err  error
}

// loadDiagnostics reads, off the UI goroutine, what diagnostics shows
// beyond the live fields, handing each part to the screen as soon as it is
// read so that a slow part (counting a big journal) shows progress while
// the rest is already there. Late answers for a left screen are dropped.
func (k *Kiosk) loadDiagnostics() {
	if k.diag.loading {
		return
	}
	k.diag = diagInfo{loading: true, logs: k.diag.logs}
	gen := k.gen
	ctx := k.ctx()
	svc := k.deps.Service
	logs := k.deps.LogLines
	now := k.opts.Now()
	deliver := func(fn func(d *diagInfo)) {
		k.post(func() {
			if gen != k.gen || k.screen != ScreenDiagnostics {
				return
			}
			fn(&k.diag)
			k.render()
		})
	}
	spawned := k.spawn(func() {
		var lines []string
		if logs != nil {
			lines = logs()
			lines = lines[max(0, len(lines)-logLinesShown):]
		}
		day := now.In(svc.Location())
		exp, expErr := svc.Journal().OfflineExposure(ctx, "", day.Format("20060102"))
		var bills []diagBill
		for _, d := range []time.Time{day, day.AddDate(0, 0, -1)} {
			b := diagBill{date: d.Format("20060102")}
			b.rep, b.ok, b.err = svc.Journal().BillReport(ctx, b.date)
			bills = append(bills, b)
		}
		deliver(func(d *diagInfo) {
			d.logs, d.bills, d.exposure, d.expErr = lines, bills, &exp, expErr
		})

		tok, tokErr := svc.Platform().Tokens().Info(ctx)
		deliver(func(d *diagInfo) { d.tokenRead, d.token, d.tokenErr = true, tok, tokErr })

		// One walk of the journal, however many states.
		counts := map[agent.OrderState]int{}
		orders, err := svc.Journal().Orders(ctx, agent.OrderFilter{})
		for _, o := range orders {
			counts[o.State]++
		}
		deliver(func(d *diagInfo) {
			d.countsRead, d.counts, d.countsErr, d.loading = true, counts, err, false
		})
	})
	if !spawned {
		k.diag.loading = false
	}
}

// enterDiagnostics shows diagnostics and starts reading what it shows.
func (k *Kiosk) enterDiagnostics() {
	k.diag = diagInfo{}
	k.show(ScreenDiagnostics)
	k.loadDiagnostics()
}

// startPendingDiagnostics starts the read New left for Run (New starts
// no goroutine: its answers would go to a post not yet final).
func (k *Kiosk) startPendingDiagnostics() {
	if k.diagPending && k.screen == ScreenDiagnostics {
		k.loadDiagnostics()
	}
	k.diagPending = false
}

// refreshDiagnostics reads the diagnostics again (the Refresh button).
func (k *Kiosk) refreshDiagnostics() {
	k.loadDiagnostics()
	k.render()
}

// diagLeft is a leading-aligned label for the diagnostics list.
func diagLeft(s string, imp widget.Importance) *widget.Label {
	l := plain(s, imp)
	l.Alignment = fyne.TextAlignLeading
	return l
}

// diagSections adds to info what diagnostics shows beyond the live state:
// token, clock offset, journal counts, bill reconciliations, offline
// limits, version and config, and the last log lines.
func (k *Kiosk) diagSections(info *fyne.Container) {
	tx, d, now := k.tx, k.diag, k.opts.Now()
	add := func(s string, imp widget.Importance) { info.Add(diagLeft(s, imp)) }

	k.diagLive.token = diagLeft("", widget.MediumImportance)
	k.diagLive.clock = diagLeft("", widget.MediumImportance)
	info.Add(k.diagLive.token)
	info.Add(k.diagLive.clock)
	k.updateDiagLive(now)

	switch {
	case !d.countsRead:
		add(tx.t(mDiagCounting), widget.MediumImportance)
		k.spinner = widget.NewProgressBarInfinite()
		info.Add(k.spinner)
	case d.countsErr != nil:
		add(tx.t(mFailed, d.countsErr.Error()), widget.DangerImportance)
	case len(d.counts) == 0:
		add(tx.t(mDiagNoOrders), widget.MediumImportance)
	default:
		var parts []string
		for _, s := range agent.States() {
			if n := d.counts[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", tx.named("state", string(s)), n))
			}
		}
		add(tx.t(mDiagCounts, strings.Join(parts, ", ")), widget.MediumImportance)
	}

	for _, b := range d.bills {
		switch {
		case b.err != nil:
			add(tx.t(mDiagBill, b.date, tx.t(mFailed, b.err.Error())), widget.DangerImportance)
		case !b.ok:
			add(tx.t(mDiagNoBill, b.date), widget.MediumImportance)
		default:
			imp := widget.SuccessImportance
			if len(b.rep.Lines) > 0 {
				imp = widget.WarningImportance
			}
			add(tx.t(mDiagBill, b.date, billSummary(tx, b.rep)), imp)
		}
	}

	p := k.deps.Service.Options().Offline
	if p.Enabled {
		add(tx.t(mDiagOfflineOn, p.MaxAmount, p.MaxTotal, p.MaxCount, p.MaxPerCardDay, p.CardMaxAge), widget.MediumImportance)
	} else {
		add(tx.t(mDiagOfflineNo), widget.MediumImportance)
	}
	switch {
	case d.expErr != nil:
		add(tx.t(mFailed, d.expErr.Error()), widget.DangerImportance)
	case d.exposure != nil:
		add(tx.t(mDiagExposure, d.exposure.Count, d.exposure.Amount), widget.MediumImportance)
	}

	version := k.opts.Version
	if version == "" {
		version = "dev"
	}
	add(tx.t(mDiagVersion, version), widget.MediumImportance)
	for _, l := range k.opts.ConfigSummary {
		add(l, widget.MediumImportance)
	}

	if len(d.logs) > 0 {
		add(tx.t(mDiagLogs), widget.MediumImportance)
		for _, l := range d.logs {
			lb := diagLeft(l, widget.MediumImportance)
			lb.TextStyle.Monospace = true
			info.Add(lb)
		}
	}
}

// updateDiagLive sets the diagnostics lines that move with the clock: the
// token's expiry and time left, and the clock offset (an atomic read of the
// last reply's Date header: no call, no wait).
func (k *Kiosk) updateDiagLive(now time.Time) {
	tx, d := k.tx, k.diag
	set := func(l *widget.Label, s string, imp widget.Importance) {
		if l != nil && (l.Text != s || l.Importance != imp) {
			l.Text, l.Importance = s, imp
			l.Refresh()
		}
	}
	switch {
	case !d.tokenRead:
		set(k.diagLive.token, tx.t(mWorking), widget.MediumImportance)
	case d.tokenErr != nil:
		set(k.diagLive.token, tx.t(mDiagTokenErr, d.tokenErr.Error()), widget.DangerImportance)
	case d.token.Expires.IsZero():
		set(k.diagLive.token, tx.t(mDiagNoToken), widget.WarningImportance)
	default:
		left := d.token.Expires.Sub(now).Round(time.Second)
		imp := widget.MediumImportance
		if left <= 0 {
			left, imp = 0, widget.DangerImportance
		}
		set(k.diagLive.token, tx.t(mDiagToken, d.token.Expires.In(now.Location()).Format("2006-01-02 15:04:05"), left), imp)
	}

	off, at, ok := k.deps.Service.ClockOffset()
	switch {
	case !ok:
		set(k.diagLive.clock, tx.t(mDiagNoClock), widget.MediumImportance)
	case off > clockOffsetWarn || off < -clockOffsetWarn:
		set(k.diagLive.clock, tx.t(mDiagClock, signedDuration(off), at.Format("15:04:05"))+"\n"+tx.t(mDiagClockBad), widget.DangerImportance)
	default:
		set(k.diagLive.clock, tx.t(mDiagClock, signedDuration(off), at.Format("15:04:05")), widget.SuccessImportance)
	}
}

// billSummary words a bill reconciliation's counts: each class that
// occurred, then the bill's own trailer.
func billSummary(tx texts, r agent.BillReport) string {
	var parts []string
	for _, m := range agent.BillMatches() {
		if n := r.Counts[m]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", tx.named("bill", string(m)), n))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, tx.t(mDiagBillNone))
	}
	return tx.t(mDiagBillTotal, strings.Join(parts, ", "), r.BillCount, r.BillTotal)
}

// signedDuration writes d with its sign, to the second: "+5m0s", "-12s".
func signedDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		return d.String()
	}
	return "+" + d.String()
}
