package status

import (
	"fmt"
	"time"

	"github.com/campuspos/kiosk/agent"
)

// Reasons /healthz gives for "degraded", each the start of one reason
// string ("code: detail").
const (
	// ReasonPlatformOffline: the last platform exchange could not reach
	// the platform.
	ReasonPlatformOffline = "platform_offline"
	// ReasonDeviceDisconnected: a configured scanner or card reader is not
	// open (unplugged, failing, or stopped for good).
	ReasonDeviceDisconnected = "device_disconnected"
	// ReasonNeedsReview: orders wait for a person.
	ReasonNeedsReview = "needs_review"
	// ReasonClockOffset: the platform's clock and the terminal's differ by
	// more than agent.ClockOffsetLimit.
	ReasonClockOffset = "clock_offset"
	// ReasonJournalUnreadable: the journal's order counts or unfinished
	// orders could not be read.
	ReasonJournalUnreadable = "journal_unreadable"
	// ReasonSettlementFailed: yesterday's settlement failed, attempt after
	// attempt, for SettlementFailingAfter past its settlement time.
	ReasonSettlementFailed = "settlement_failed"
	// ReasonSettlementMismatch: the bill of the last settled day has
	// platform_only rows or rows whose amount or status disagrees with the
	// journal.
	ReasonSettlementMismatch = "settlement_mismatch"
	// ReasonFontMissing: the screens show characters that no loaded font
	// has (the catalogue of either language, the menu): they are drawn as
	// boxes.
	ReasonFontMissing = "font_missing"
)

// reasons says why the terminal is degraded; none when it is ready.
func reasons(sn *snapshot) []string {
	out := []string{}
	if !sn.online {
		out = append(out, fmt.Sprintf("%s: unreachable since %s", ReasonPlatformOffline, sn.onlineSince.Format(time.RFC3339)))
	}
	for _, d := range sn.devices {
		if !d.Connected {
			what := "disconnected"
			if d.Ended {
				what = "stopped"
			}
			out = append(out, fmt.Sprintf("%s: %s %s since %s", ReasonDeviceDisconnected, d.Name, what, d.Since.Format(time.RFC3339)))
		}
	}
	if sn.review > 0 {
		out = append(out, fmt.Sprintf("%s: %d orders wait for a person", ReasonNeedsReview, sn.review))
	}
	if sn.clockKnown && agent.OffsetTooLarge(sn.clockOffset) {
		out = append(out, fmt.Sprintf("%s: the platform's clock is %+ds off this terminal's (the platform refuses requests 6m off)",
			ReasonClockOffset, int64(sn.clockOffset.Round(time.Second)/time.Second)))
	}
	if sn.journalErr != nil {
		out = append(out, fmt.Sprintf("%s: %v", ReasonJournalUnreadable, sn.journalErr))
	}
	if sn.missingGlyphs != "" {
		out = append(out, fontReason(sn.missingGlyphs))
	}
	return append(out, settlementReasons(sn)...)
}

// Health states: /healthz's status, 200 for ready, 503 for degraded.
const (
	StatusReady    = "ready"
	StatusDegraded = "degraded"
)

// Health is the /healthz document, for a client to decode.
type Health struct {
	// Status is StatusReady or StatusDegraded.
	Status string `json:"status"`
	// Reasons are "code: detail", each code one of the Reason constants;
	// empty (never null) when ready.
	Reasons []string `json:"reasons"`
}

func healthStatus(why []string) string {
	if len(why) > 0 {
		return StatusDegraded
	}
	return StatusReady
}
