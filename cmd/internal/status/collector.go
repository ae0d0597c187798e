package status

import (
	"context"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/campuspos/kiosk/agent"
)

// stateCollector reads the terminal's state at scrape time: gauges of what
// the agent, the journal and the devices say now, never a copy kept in
// step by hooks that could drift from the journal.
type stateCollector struct {
	s *Server

	online, clockOffset, tokenExpiresIn                                 *prometheus.Desc
	unfinished, oldestAge, needsReview, journalSize, journalReadable    *prometheus.Desc
	offlineEnabled, offlineCount, offlineFen                            *prometheus.Desc
	offlineMaxCount, offlineMaxTotal, offlineMaxPayment, offlineMaxCard *prometheus.Desc
	devConnected, devOpens, devReconnects, devDropped, devScans         *prometheus.Desc
	reconcileAt, reconcileOK, buildInfo                                 *prometheus.Desc
	settleEnabled, settleLast, settleBehind, settleMismatch, settleNet  *prometheus.Desc
}

func newStateCollector(s *Server) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &stateCollector{
		s:              s,
		online:         d("kiosk_platform_online", "1 when the last platform exchange reached the platform, 0 when it could not."),
		clockOffset:    d("kiosk_platform_clock_offset_seconds", "The platform's clock minus the terminal's, from the latest reply's Date header; absent before the first reply. The platform refuses requests 6 minutes off."),
		tokenExpiresIn: d("kiosk_token_expires_in_seconds", "Seconds until the stored access token expires, negative once it has; absent when none is stored."),

		unfinished:      d("kiosk_unfinished_orders", "Orders the reconciler still has work on, by state.", "state"),
		oldestAge:       d("kiosk_oldest_unfinished_order_age_seconds", "Age of the oldest unfinished order; 0 when there is none."),
		needsReview:     d("kiosk_needs_review_orders", "Orders waiting for a person; absent until counted."),
		journalSize:     d("kiosk_journal_size_bytes", "Size of the journal file."),
		journalReadable: d("kiosk_journal_readable", "1 when this scrape read the journal's unfinished orders, 0 when that failed."),

		offlineEnabled:    d("kiosk_offline_enabled", "1 when payments may be accepted while the platform is unreachable."),
		offlineCount:      d("kiosk_offline_accepted_orders", "Payments accepted offline and not yet settled."),
		offlineFen:        d("kiosk_offline_accepted_fen", "Sum of the payments accepted offline and not yet settled, in fen."),
		offlineMaxCount:   d("kiosk_offline_max_orders", "Limit: payments accepted offline and not yet settled."),
		offlineMaxTotal:   d("kiosk_offline_max_total_fen", "Limit: sum of the payments accepted offline and not yet settled, in fen."),
		offlineMaxPayment: d("kiosk_offline_max_payment_fen", "Limit: one payment accepted offline, in fen."),
		offlineMaxCard:    d("kiosk_offline_max_card_day_fen", "Limit: what one card may be accepted offline for in a platform-local day, in fen."),

		devConnected:  d("kiosk_device_connected", "1 while the scanner or card reader is open.", "device"),
		devOpens:      d("kiosk_device_opens_total", "Successful opens of the device.", "device"),
		devReconnects: d("kiosk_device_reconnects_total", "Opens after the first: a flaky cable or a re-plugged device.", "device"),
		devDropped:    d("kiosk_device_dropped_frames_total", "Input the device's decoder threw away.", "device"),
		devScans:      d("kiosk_device_scans_total", "Scans the device delivered.", "device"),

		reconcileAt: d("kiosk_reconcile_last_pass_timestamp_seconds", "When the latest reconciler pass finished, Unix time; absent before the first."),
		reconcileOK: d("kiosk_reconcile_last_pass_success", "1 when the latest reconciler pass went through, 0 when it stopped early."),
		buildInfo:   d("kiosk_build_info", "Always 1: the kiosk's version and the Go version it was built with.", "version", "go_version"),

		settleEnabled: d("kiosk_settlement_enabled", "1 when the kiosk settles each platform day by itself (settlement.enabled)."),
		settleLast: d("kiosk_settlement_last_success_timestamp_seconds", "When the latest successful settlement of a day of the catch-up window finished, "+
			"Unix time; 0 when no day of the window is settled."),
		settleBehind: d("kiosk_settlement_days_behind", "Days of the catch-up window not settled whose settlement time has passed: "+
			"every day before yesterday not done, and yesterday once settlement.at (platform time, jitter not counted) has passed."),
		settleMismatch: d("kiosk_settlement_mismatches", "Bill rows of the last settled day that disagree with the journal, by kind: "+
			"platform_only (on the bill, not in the journal), journal_only (in the journal, not on the bill), "+
			"mismatched (amount or status differ); absent when no day of the window is settled.", "kind"),
		settleNet: d("kiosk_settlement_day_total_fen", "The last settled day's net in fen (payments charged less refunds paid out) "+
			"by source: journal, bill; absent when no day of the window is settled.", "source"),
	}
}

// Describe sends every descriptor (prometheus.Collector).
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.online, c.clockOffset, c.tokenExpiresIn,
		c.unfinished, c.oldestAge, c.needsReview, c.journalSize, c.journalReadable,
		c.offlineEnabled, c.offlineCount, c.offlineFen,
		c.offlineMaxCount, c.offlineMaxTotal, c.offlineMaxPayment, c.offlineMaxCard,
		c.devConnected, c.devOpens, c.devReconnects, c.devDropped, c.devScans,
		c.reconcileAt, c.reconcileOK, c.buildInfo,
		c.settleEnabled, c.settleLast, c.settleBehind, c.settleMismatch, c.settleNet,
	} {
		ch <- d
	}
}

// Collect reads a snapshot and sends it (prometheus.Collector). Collect
// takes no context; the server's read timeout bounds the reads.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	sn := c.s.read(context.Background())
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	gauge(c.online, one(sn.online))
	if sn.clockKnown {
		gauge(c.clockOffset, sn.clockOffset.Seconds())
	}
	if !sn.tokenExpires.IsZero() {
		gauge(c.tokenExpiresIn, sn.tokenExpires.Sub(sn.now).Seconds())
	}

	gauge(c.journalReadable, one(sn.journalErr == nil))
	if sn.journalErr == nil {
		for st, n := range sn.unfinished {
			gauge(c.unfinished, float64(n), string(st))
		}
		age := 0.0
		if !sn.oldest.IsZero() {
			age = sn.now.Sub(sn.oldest).Seconds()
		}
		gauge(c.oldestAge, age)
	}
	if sn.reviewOK {
		gauge(c.needsReview, float64(sn.review))
	}
	if sn.sizeOK {
		gauge(c.journalSize, float64(sn.journalSize))
	}

	p := sn.offline
	gauge(c.offlineEnabled, one(p.Enabled))
	if sn.exposureOK {
		gauge(c.offlineCount, float64(sn.exposure.Count))
		gauge(c.offlineFen, float64(sn.exposure.Amount))
	}
	gauge(c.offlineMaxCount, float64(p.MaxCount))
	gauge(c.offlineMaxTotal, float64(p.MaxTotal))
	gauge(c.offlineMaxPayment, float64(p.MaxAmount))
	gauge(c.offlineMaxCard, float64(p.MaxPerCardDay))

	for _, d := range sn.devices {
		gauge(c.devConnected, one(d.Connected), d.Name)
		counter(c.devOpens, d.Opens, d.Name)
		counter(c.devReconnects, d.Reconnects, d.Name)
		counter(c.devDropped, d.Dropped, d.Name)
		counter(c.devScans, d.Scans, d.Name)
	}

	if sn.reconcileOK {
		gauge(c.reconcileAt, float64(sn.reconcile.At.UnixNano())/1e9)
		gauge(c.reconcileOK, one(sn.reconcile.Err == nil))
	}
	gauge(c.buildInfo, 1, c.s.version, runtime.Version())

	gauge(c.settleEnabled, one(sn.settlement.Enabled))
	if sn.days != nil {
		last := 0.0
		if t := sn.lastSuccess(); !t.IsZero() {
			last = float64(t.UnixNano()) / 1e9
		}
		gauge(c.settleLast, last)
		gauge(c.settleBehind, float64(sn.daysBehind()))
	}
	if r, ok := sn.lastDone(); ok {
		gauge(c.settleMismatch, float64(r.Counts[agent.BillPlatformOnly]), "platform_only")
		gauge(c.settleMismatch, float64(r.Counts[agent.BillJournalOnly]), "journal_only")
		gauge(c.settleMismatch, float64(r.Mismatched()), "mismatched")
		gauge(c.settleNet, float64(r.JournalNet), "journal")
		gauge(c.settleNet, float64(r.BillNet), "bill")
	}
}

func one(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
