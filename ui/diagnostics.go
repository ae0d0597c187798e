package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/campuspos/kiosk/agent"
)

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

	today       *agent.DayReport // today's figures so far (an X report)
	todayErr    error
	settlements []agent.BillReport // the catch-up window, newest first
	settleErr   error
	exposure    *agent.OfflineExposure
	expErr      error
	pwdLocks    int // cards locked by wrong passwords now
	pwdLocksErr error
	pwdRead     bool

	logs []string
}

// loadDiagnostics reads, off the UI goroutine, what diagnostics shows
// beyond the live fields, handing each part to the screen as soon as it is
// read so that a slow part (a day's report of a big journal, the token)
// shows progress while the rest is already there. Late answers for a left screen are dropped.
func (k *Kiosk) loadDiagnostics() {
	if k.diag.loading {
		return
	}
	k.diag = diagInfo{loading: true, logs: k.diag.logs}
	gen := k.m.gen
	ctx := k.ctx()
	svc := k.deps.Agent
	logs := k.deps.LogLines
	deliver := func(fn func(d *diagInfo)) {
		k.post(func() {
			if !k.m.current(gen) || k.m.screen != ScreenDiagnostics {
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
		day := svc.Today()
		exp, expErr := svc.OfflineExposure(ctx, "")
		today, todayErr := svc.DayReport(ctx, day)
		today.Date = day // also when the read failed, for the heading
		settlements, settleErr := svc.Settlements(ctx)
		locks, locksErr := svc.CardPasswordLocks(ctx)
		deliver(func(d *diagInfo) {
			d.pwdLocks, d.pwdLocksErr, d.pwdRead = locks, locksErr, true
			d.logs, d.settlements, d.settleErr, d.exposure, d.expErr = lines, settlements, settleErr, &exp, expErr
			d.today, d.todayErr = &today, todayErr
		})

		tok, tokErr := svc.TokenInfo(ctx)
		deliver(func(d *diagInfo) { d.tokenRead, d.token, d.tokenErr = true, tok, tokErr })

		// The journal's counts: O(states), however many orders.
		counts, err := svc.StateCounts(ctx)
		deliver(func(d *diagInfo) {
			d.countsRead, d.counts, d.countsErr, d.loading = true, counts, err, false
		})
	})
	if !spawned {
		k.diag.loading = false
	}
}

// startPendingDiagnostics starts the read New left for Run (New starts
// no goroutine: its answers would go to a post not yet final).
func (k *Kiosk) startPendingDiagnostics() {
	if k.diagPending && k.m.screen == ScreenDiagnostics {
		k.loadDiagnostics()
	}
	k.diagPending = false
}

// refreshDiagnostics reads the diagnostics again (the Refresh button).
func (k *Kiosk) refreshDiagnostics() {
	k.loadDiagnostics()
	k.render()
}

// diagView is diagnostics: what the terminal knows on the left, what a
// technician can do on the right. Its lines change with every event; the
// labels showing them are a pool, kept between renders (diagLine).
type diagView struct {
	root  fyne.CanvasObject
	title *widget.Label
	info  *fyne.Container
	pool  []*widget.Label
	used  int // labels of pool on screen since the render began
	// spinner shows while the journal is counted.
	spinner                  *widget.ProgressBarInfinite
	reconcile, refresh, lang *widget.Button
	back                     *widget.Button
	modeKiosk, modeCanteen   *widget.Button
}

func (k *Kiosk) newDiagView() diagView {
	v := diagView{title: subheading("", widget.MediumImportance), info: container.NewVBox(),
		spinner: widget.NewProgressBarInfinite(), reconcile: k.button("", k.reconcile),
		refresh: k.button("", k.refreshDiagnostics), lang: k.button("", k.toggleLang),
		back:        k.primary("", k.feed(k.m.goHome)),
		modeKiosk:   k.button("", func() { k.apply(k.m.setMode(ModeKiosk)) }),
		modeCanteen: k.button("", func() { k.apply(k.m.setMode(ModeCanteen)) })}
	k.diagLive.token = diagLabel()
	k.diagLive.clock = diagLabel()
	actions := container.NewVBox(v.reconcile, v.refresh, container.NewGridWithColumns(2, v.modeKiosk, v.modeCanteen), v.lang)
	for _, a := range k.deps.Extra {
		actions.Add(k.button(a.Label, func() { k.runExtra(a) }))
	}
	v.root = container.NewBorder(v.title, container.NewCenter(v.back), nil, nil,
		container.NewGridWithColumns(2, container.NewVScroll(v.info), container.NewVScroll(actions)))
	return v
}

// diagLabel is a leading-aligned label for the diagnostics list.
func diagLabel() *widget.Label {
	l := plain("", widget.MediumImportance)
	l.Alignment = fyne.TextAlignLeading
	return l
}

// diagLine adds s to info as the next line of the diagnostics list, in the
// next label of the pool (one more when all are in use), monospaced for a
// log line.
func (k *Kiosk) diagLine(info *fyne.Container, s string, imp widget.Importance, mono bool) {
	v := &k.s.diag
	if v.used == len(v.pool) {
		v.pool = append(v.pool, diagLabel())
	}
	l := v.pool[v.used]
	v.used++
	restyle := l.TextStyle.Monospace != mono
	l.TextStyle.Monospace = mono
	if k.change(&l.Text, &l.Importance, s, imp) || restyle {
		l.Refresh()
	}
	info.Objects = append(info.Objects, l)
}

func (k *Kiosk) diagnosticsScreen() fyne.CanvasObject {
	tx, v := k.tx, &k.s.diag
	k.setLabel(v.title, tx.t(mDiagTitle), widget.MediumImportance)
	v.used = 0
	info := v.info
	info.Objects = info.Objects[:0]
	add := func(s string, imp widget.Importance) { k.diagLine(info, s, imp, false) }
	since := k.since.Format("2006-01-02 15:04:05")
	if k.online {
		add(tx.t(mDiagOnline, since), widget.SuccessImportance)
	} else {
		add(tx.t(mDiagOffline, since), widget.DangerImportance)
	}
	add(tx.t(mDiagUnfin, k.unfinished), widget.MediumImportance)
	if k.diagMsg != "" {
		add(k.diagMsg, widget.HighImportance)
	}
	add(tx.t(mDevices), widget.MediumImportance)
	if len(k.devices) == 0 {
		add(tx.t(mNoDevices), widget.MediumImportance)
	}
	for _, d := range k.devices {
		if d.Connected {
			add(tx.t(mDeviceUp, d.Name, d.Scans, d.Dropped), widget.MediumImportance)
		} else {
			add(tx.t(mDeviceDown, d.Name, d.LastError), widget.DangerImportance)
		}
	}
	if k.lastScan == "" {
		add(tx.t(mNoScan), widget.MediumImportance)
	} else {
		add(tx.t(mLastScan, k.lastScan), widget.MediumImportance)
	}
	for _, w := range k.Warnings() {
		add(w, widget.WarningImportance)
	}
	k.diagSections(info)

	k.setButton(v.reconcile, tx.t(mReconcile), widget.MediumImportance)
	k.setButton(v.refresh, tx.t(mRefresh), widget.MediumImportance)
	for _, m := range []struct {
		b     *widget.Button
		mode  Mode
		label msg
	}{{v.modeKiosk, ModeKiosk, mModeKiosk}, {v.modeCanteen, ModeCanteen, mModeCanteen}} {
		imp := widget.MediumImportance
		if k.m.mode == m.mode {
			imp = widget.HighImportance
		}
		k.setButton(m.b, tx.t(m.label), imp)
	}
	k.setButton(v.lang, k.langLabel(), widget.MediumImportance)
	k.setButton(v.back, tx.t(mBack), widget.HighImportance)
	return v.root
}

// diagSections adds to info what diagnostics shows beyond the live state:
// token, clock offset, journal counts, today's figures, daily
// settlements, offline limits, version, the characters no font has,
// config, and the last log lines.
func (k *Kiosk) diagSections(info *fyne.Container) {
	tx, d, now := k.tx, k.diag, k.opts.Now()
	add := func(s string, imp widget.Importance) { k.diagLine(info, s, imp, false) }

	info.Objects = append(info.Objects, k.diagLive.token, k.diagLive.clock)
	k.updateDiagLive(now)

	switch {
	case !d.countsRead:
		add(tx.t(mDiagCounting), widget.MediumImportance)
		k.spinner = k.s.diag.spinner
		info.Objects = append(info.Objects, k.spinner)
	case d.countsErr != nil:
		add(tx.t(mFailed, d.countsErr.Error()), widget.DangerImportance)
	case len(d.counts) == 0:
		add(tx.t(mDiagNoOrders), widget.MediumImportance)
	default:
		var parts []string
		for _, s := range agent.States() {
			if n := d.counts[s]; n > 0 {
				parts = append(parts, tx.t(mListCount, tx.named("state", string(s)), n))
			}
		}
		add(tx.t(mDiagCounts, tx.list(parts)), widget.MediumImportance)
	}

	if d.today != nil {
		addToday(tx, *d.today, d.todayErr, add)
	}

	if d.settlements != nil || d.settleErr != nil {
		add(tx.t(mDiagSettle, len(d.settlements)), widget.MediumImportance)
		for _, r := range d.settlements {
			line, imp := settlementLine(tx, r)
			add(line, imp)
			if diff := r.Difference(); diff != 0 {
				// Worded as the journal less the bill.
				add(tx.t(mSettleDiff, -diff), widget.DangerImportance)
			}
		}
		if d.settleErr != nil {
			add(tx.t(mFailed, d.settleErr.Error()), widget.DangerImportance)
		}
	}

	p := k.deps.Agent.Options().Offline
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

	switch pw := k.deps.Agent.Options().Password; {
	case pw.Mode == agent.PasswordNever:
		add(tx.t(mDiagPwdNever), widget.MediumImportance)
	case pw.Mode == agent.PasswordAbove:
		add(tx.t(mDiagPwdAbove, pw.Above.String(), pw.MaxTries, pw.Lock), widget.MediumImportance)
	default:
		add(tx.t(mDiagPwdAlways, pw.MaxTries, pw.Lock), widget.MediumImportance)
	}
	switch {
	case d.pwdLocksErr != nil:
		add(tx.t(mFailed, d.pwdLocksErr.Error()), widget.DangerImportance)
	case d.pwdRead && d.pwdLocks > 0:
		add(tx.t(mDiagPwdLocked, d.pwdLocks), widget.WarningImportance)
	}

	version := k.opts.Version
	if version == "" {
		version = "dev"
	}
	add(tx.t(mDiagVersion, version), widget.MediumImportance)
	if k.missing != "" {
		add(fontMissingText(k.missing), widget.DangerImportance)
	}
	for _, l := range k.opts.ConfigSummary {
		add(l, widget.MediumImportance)
	}

	if len(d.logs) > 0 {
		add(tx.t(mDiagLogs), widget.MediumImportance)
		for _, l := range d.logs {
			k.diagLine(info, l, widget.MediumImportance, true)
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

	off, at, ok := k.deps.Agent.ClockOffset()
	switch {
	case !ok:
		set(k.diagLive.clock, tx.t(mDiagNoClock), widget.MediumImportance)
	case agent.OffsetTooLarge(off):
		set(k.diagLive.clock, tx.t(mDiagClock, signedDuration(off), at.Format("15:04:05"))+"\n"+tx.t(mDiagClockBad), widget.DangerImportance)
	default:
		set(k.diagLive.clock, tx.t(mDiagClock, signedDuration(off), at.Format("15:04:05")), widget.SuccessImportance)
	}
}

// addToday words today's figures so far (an X report) with add: what
// was charged, refunded, is still to be confirmed (sent without an answer,
// or accepted offline and not yet sent), declined and waits for a person,
// then the net taken. Orders waiting for review stand out; a failed read
// shows its error instead of figures.
func addToday(tx texts, r agent.DayReport, err error, add func(string, widget.Importance)) {
	add(tx.t(mDiagToday, dashedDate(r.Date)), widget.MediumImportance)
	if err != nil {
		add(tx.t(mFailed, err.Error()), widget.DangerImportance)
		return
	}
	figure := func(name msg, f agent.Figure) string { return tx.t(mTodayFigure, tx.t(name), f.Count, f.Total) }
	unconfirmed := agent.Figure{Count: r.Unconfirmed.Count + r.Offline.Count, Total: r.Unconfirmed.Total + r.Offline.Total}
	review := widget.MediumImportance
	if r.NeedsReview.Count > 0 {
		review = widget.WarningImportance
	}
	add(figure(mTodayCharged, r.Charged), widget.MediumImportance)
	add(figure(mTodayRefunds, r.Refunds), widget.MediumImportance)
	add(tx.t(mTodayHint, figure(mTodayPending, unconfirmed)), widget.MediumImportance)
	add(figure(mTodayDeclined, r.Declined), widget.MediumImportance)
	add(figure(mTodayReview, r.NeedsReview), review)
	add(tx.t(mTodayNet, r.Net), widget.MediumImportance)
}

// dashedDate writes a yyyyMMdd date as diagnostics shows it, 2026-11-27;
// anything else as it is.
func dashedDate(date string) string {
	if day, err := time.Parse("20060102", date); err == nil {
		return day.Format("2006-01-02")
	}
	return date
}

// reasonShown is how many characters of a failed settlement's reason
// diagnostics shows: the start says what failed, the log has the rest.
const reasonShown = 60

// settlementLine words one day's settlement and how it stands out: a done
// day with its counts and both nets (green when everything matched, amber
// otherwise), a failed one with its attempts and reason (red), a pending
// one plainly.
func settlementLine(tx texts, r agent.BillReport) (string, widget.Importance) {
	date := dashedDate(r.Date)
	state := tx.named("settlement", string(r.State))
	switch r.State {
	case agent.SettlementDone:
		count := func(m agent.BillMatch) string { return tx.t(mListCount, tx.named("bill", string(m)), r.Counts[m]) }
		counts := []string{count(agent.BillMatched), count(agent.BillPlatformOnly), count(agent.BillJournalOnly),
			tx.t(mListCount, tx.t(mMismatched), r.Mismatched())}
		imp := widget.SuccessImportance
		if r.Counts[agent.BillMatched] != sumCounts(r.Counts) || r.JournalNet != r.BillNet {
			imp = widget.WarningImportance
		}
		return tx.t(mSettleDone, date, state, tx.list(counts), r.JournalNet, r.BillNet), imp
	case agent.SettlementFailed:
		return tx.t(mSettleFailed, date, state, r.Attempts, agent.Shorten(r.Reason, reasonShown)), widget.DangerImportance
	default:
		return tx.t(mSettleDay, date, state), widget.MediumImportance
	}
}

// sumCounts adds up a report's counts over every class.
func sumCounts(c map[agent.BillMatch]int) int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// signedDuration writes d with its sign, to the second: "+5m0s", "-12s".
func signedDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		return d.String()
	}
	return "+" + d.String()
}
