package status

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/device"
)

// snapshot is what one request reads of the terminal: the agent's live
// state, the journal's order counts, unfinished orders and offline
// exposure, the stored token's expiry, the devices, and the settlements of
// the catch-up window.
// Reads that fail leave their part unset and say why in errs.
type snapshot struct {
	now time.Time

	online      bool
	onlineSince time.Time

	clockOffset time.Duration
	clockAt     time.Time
	clockKnown  bool

	// tokenExpires is the stored token's expiry; zero when none is stored.
	tokenExpires time.Time

	// unfinished counts the unfinished orders by state (every unfinished
	// state present), from the journal's counts; nil when the journal
	// could not be read (journalErr).
	unfinished map[agent.OrderState]int
	// oldest is when the oldest unfinished order was created; zero when
	// there is none.
	oldest     time.Time
	journalErr error

	offline    agent.OfflinePolicy
	exposure   agent.OfflineExposure
	exposureOK bool

	// review counts the needs_review orders; reviewOK is false when the
	// journal's counts could not be read (journalErr).
	review   int
	reviewOK bool

	devices []device.Status
	// missingGlyphs are the characters the screens show that no loaded
	// font has; "" when none, or without screens.
	missingGlyphs string

	journalPath string
	journalSize int64
	sizeOK      bool

	reconcile   agent.ReconcilePass
	reconcileOK bool

	// loc is the platform's zone; settlement is the settlement policy and
	// days the catch-up window's settlements, newest (yesterday) first;
	// nil when they could not be read.
	loc        *time.Location
	settlement agent.SettlementPolicy
	days       []agent.BillReport

	errs []string
}

// dayLayout is how the journal names a platform-local day.
const dayLayout = "20060102"

// allUnfinished is a NextAttempt no order waits beyond: Due up to it lists
// every unfinished order, from the unfinished index alone (O(unfinished),
// whatever the size of the journal).
func allUnfinished() time.Time { return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }

// read takes a snapshot, bounding the journal reads by the server's read
// timeout.
func (s *Server) read(ctx context.Context) *snapshot {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	opts := s.agent.Options()
	sn := &snapshot{now: opts.Clock.Now(), offline: opts.Offline, journalPath: s.journalPath,
		loc: opts.Location, settlement: opts.Settlement}
	sn.online, sn.onlineSince = s.agent.Online()
	sn.clockOffset, sn.clockAt, sn.clockKnown = s.agent.ClockOffset()
	sn.reconcile, sn.reconcileOK = s.agent.LastReconcile()
	if s.devices != nil {
		sn.devices = s.devices()
	}
	if s.glyphs != nil {
		sn.missingGlyphs = s.glyphs()
	}

	j := s.agent.Journal()
	sn.readOrders(ctx, j)
	day := sn.now.In(opts.Location)
	// No account: only the terminal's totals are wanted, not a card's day.
	if e, err := j.OfflineExposure(ctx, "", day.Format(dayLayout)); err != nil {
		sn.errs = append(sn.errs, fmt.Sprintf("offline exposure: %v", err))
	} else {
		sn.exposure, sn.exposureOK = e, true
	}
	if s.tokens != nil {
		// The stored token, never the manager's Info, which fetches a
		// token when there is none: a scrape must not call the platform.
		switch tok, ok, err := s.tokens.LoadToken(ctx); {
		case err != nil:
			sn.errs = append(sn.errs, fmt.Sprintf("access token: %v", err))
		case ok && tok.Value != "":
			sn.tokenExpires = tok.Expires
		}
	}
	if fi, err := os.Stat(s.journalPath); err != nil {
		sn.errs = append(sn.errs, fmt.Sprintf("journal file: %v", err))
	} else {
		sn.journalSize, sn.sizeOK = fi.Size(), true
	}
	if days, err := s.agent.Settlements(ctx); err != nil {
		sn.errs = append(sn.errs, fmt.Sprintf("settlements: %v", err))
	} else {
		sn.days = days
	}
	return sn
}

// readOrders reads the order figures: the counts by state (O(states)) and,
// from the unfinished index (O(unfinished), whatever the size of the
// journal), the oldest unfinished order. A failed read leaves unset what
// depends on it.
func (sn *snapshot) readOrders(ctx context.Context, j agent.Journal) {
	counts, err := j.StateCounts(ctx)
	if err != nil {
		sn.journalErr = fmt.Errorf("order counts: %w", err)
		sn.errs = append(sn.errs, sn.journalErr.Error())
		return
	}
	sn.review, sn.reviewOK = counts[agent.StateNeedsReview], true
	// Due with no limit: the store reads the whole unfinished index.
	due, err := j.Due(ctx, allUnfinished(), 0)
	if err != nil {
		sn.journalErr = fmt.Errorf("unfinished orders: %w", err)
		sn.errs = append(sn.errs, sn.journalErr.Error())
		return
	}
	for _, o := range due {
		if sn.oldest.IsZero() || o.Created.Before(sn.oldest) {
			sn.oldest = o.Created
		}
	}
	sn.unfinished = map[agent.OrderState]int{}
	for _, st := range agent.States() {
		if st.Unfinished() {
			sn.unfinished[st] = counts[st]
		}
	}
}
