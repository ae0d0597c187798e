package status

import (
	"fmt"
	"regexp"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
)

// SettlementFailingAfter is how long after a day's settlement time
// (settlement.at plus settlement.jitter) the attempts at yesterday must
// have gone on failing before /healthz says settlement_failed: a bill not
// ready at settlement.at is common, and retried.
const SettlementFailingAfter = 3 * time.Hour

// Settlement is the daily settlement of the catch-up window
// (agent.Service.Settlements).
type Settlement struct {
	// Enabled is settlement.enabled: the kiosk settles each day by itself.
	Enabled bool `json:"enabled"`
	// Last is the newest day with a report, done or failed; null when no
	// day of the window has one.
	Last *SettlementDay `json:"last"`
	// Days is the window, newest (yesterday) first, pending days included;
	// null when it could not be read.
	Days []SettlementDay `json:"days"`
	// Unsettled are the dates of the window not done (failed or pending),
	// newest first; null when the window could not be read.
	Unsettled []string `json:"unsettled"`
}

// SettlementDay is one platform day's settlement. Money is in fen and in
// yuan strings; the nets are payments charged less refunds paid out.
type SettlementDay struct {
	Date string `json:"date"`
	// State is done, failed or pending (no report yet).
	State agent.SettlementState `json:"state"`
	// Reason is why the last attempt failed, without any text the
	// platform sent.
	Reason   string `json:"reason,omitempty"`
	Attempts int    `json:"attempts"`
	// The bill reconciliation's rows by class; Mismatched counts amount
	// and status mismatches.
	Matched       int    `json:"matched"`
	PlatformOnly  int    `json:"platform_only"`
	JournalOnly   int    `json:"journal_only"`
	Mismatched    int    `json:"mismatched"`
	JournalNetFen int64  `json:"journal_net_fen"`
	JournalNet    string `json:"journal_net"`
	BillNetFen    int64  `json:"bill_net_fen"`
	BillNet       string `json:"bill_net"`
	// BillCount is the bill's trailer: the rows of every terminal of the
	// app_key.
	BillCount int `json:"bill_count"`
	// FinishedAt is when the last attempt finished, in the platform's
	// zone; null for a pending day.
	FinishedAt *time.Time `json:"finished_at"`
}

// settlementOf words the snapshot's settlements.
func settlementOf(sn *snapshot) Settlement {
	st := Settlement{Enabled: sn.settlement.Enabled}
	if sn.days == nil {
		return st
	}
	st.Days, st.Unsettled = []SettlementDay{}, []string{}
	for _, r := range sn.days {
		d := SettlementDay{Date: r.Date, State: r.State, Reason: settlementReason(r.Reason), Attempts: r.Attempts,
			Matched: r.Counts[agent.BillMatched], PlatformOnly: r.Counts[agent.BillPlatformOnly],
			JournalOnly: r.Counts[agent.BillJournalOnly], Mismatched: r.Mismatched(),
			JournalNetFen: int64(r.JournalNet), JournalNet: r.JournalNet.Yuan(),
			BillNetFen: int64(r.BillNet), BillNet: r.BillNet.Yuan(), BillCount: r.BillCount}
		if !r.Created.IsZero() {
			at := r.Created.In(sn.loc)
			d.FinishedAt = &at
		}
		st.Days = append(st.Days, d)
		if r.State != agent.SettlementDone {
			st.Unsettled = append(st.Unsettled, r.Date)
		}
		if st.Last == nil && r.State != agent.SettlementPending {
			st.Last = &d
		}
	}
	return st
}

// lastDone is the newest done day of the window.
func (sn *snapshot) lastDone() (agent.BillReport, bool) {
	for _, r := range sn.days {
		if r.State == agent.SettlementDone {
			return r, true
		}
	}
	return agent.BillReport{}, false
}

// lastSuccess is when the latest successful settlement of a day of the
// window finished; zero when none did.
func (sn *snapshot) lastSuccess() time.Time {
	var last time.Time
	for _, r := range sn.days {
		if r.State == agent.SettlementDone && r.Created.After(last) {
			last = r.Created
		}
	}
	return last
}

// settleTime is when the day (yyyyMMdd) becomes due: the next day at
// settlement.at, platform time, before this terminal's jitter.
func (sn *snapshot) settleTime(date string) time.Time {
	day, err := time.ParseInLocation(dayLayout, date, sn.loc)
	if err != nil {
		return time.Time{}
	}
	return day.AddDate(0, 0, 1).Add(sn.settlement.At)
}

// daysBehind counts the window's days not done whose settlement time has
// passed: every day before yesterday, and yesterday once settlement.at
// has passed (the jitter is not waited for).
func (sn *snapshot) daysBehind() int {
	n := 0
	for i, r := range sn.days {
		if r.State != agent.SettlementDone && (i > 0 || !sn.now.Before(sn.settleTime(r.Date))) {
			n++
		}
	}
	return n
}

// failingSettlement is yesterday's settlement when it failed more than once
// and its last attempt came SettlementFailingAfter past the latest time
// its first could have come (settlement.at plus settlement.jitter).
func (sn *snapshot) failingSettlement() (agent.BillReport, bool) {
	if len(sn.days) == 0 {
		return agent.BillReport{}, false
	}
	r := sn.days[0]
	first := sn.settleTime(r.Date).Add(sn.settlement.Jitter)
	return r, r.State == agent.SettlementFailed && r.Attempts > 1 && r.Created.Sub(first) >= SettlementFailingAfter
}

// settlementReasons are /healthz's reasons about settlement.
func settlementReasons(sn *snapshot) []string {
	var out []string
	if r, ok := sn.failingSettlement(); ok {
		out = append(out, fmt.Sprintf("%s: the settlement of %s failed %d times, the last at %s", ReasonSettlementFailed,
			r.Date, r.Attempts, r.Created.In(sn.loc).Format(time.RFC3339)))
	}
	if r, ok := sn.lastDone(); ok && (r.Counts[agent.BillPlatformOnly] > 0 || r.Mismatched() > 0) {
		out = append(out, fmt.Sprintf("%s: the bill of %s has %d platform_only and %d mismatched rows", ReasonSettlementMismatch,
			r.Date, r.Counts[agent.BillPlatformOnly], r.Mismatched()))
	}
	return out
}

// platformText finds where a stored error text goes on to quote the
// platform: a declined call's message (group 2 is the retcode), a text
// reply, an undecodable reply's bytes.
var platformText = regexp.MustCompile(`(declined by platform \(retcode ([^)\n]*)\)|answered with text|answered HTTP [^:\n]*|undecodable reply: [^:\n]*): .*`)

// settlementReason words a failed attempt's stored error text as
// errorSummary words an error: what the platform said is cut, a declined
// call keeps its retcode and the retcode's meaning.
func settlementReason(reason string) string {
	return platformText.ReplaceAllStringFunc(reason, func(m string) string {
		sub := platformText.FindStringSubmatch(m)
		if sub[2] != "" {
			return fmt.Sprintf("declined by platform (retcode %s: %s)", sub[2], onecard.RetcodeText(sub[2]))
		}
		return sub[1]
	})
}
