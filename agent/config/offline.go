package config

import (
	"fmt"
	"strconv"
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// Terminal modes (terminal.mode). The mode decides whether offline payments
// are on by default: a staffed canteen till can keep serving through a
// network outage, an unattended self-service kiosk should not hand out goods
// nobody has paid for unless the operator says so.
const (
	ModeCanteen = "canteen"
	ModeKiosk   = "kiosk"
	DefaultMode = ModeCanteen
)

// What the reconciler does with an orphan charge: a charge the platform made
// although the customer was never told it succeeded (reconcile.orphans).
const (
	// OrphansRefund refunds it automatically.
	OrphansRefund = "refund"
	// OrphansReview marks it needs_review for a person to decide.
	OrphansReview = "review"
	// DefaultOrphans gives the money back: the customer walked away
	// believing nothing was charged.
	DefaultOrphans = OrphansRefund
)

// Offline defaults, applied when a key is absent or empty.
const (
	DefaultOfflineMaxAmount     money.Fen = 30_00
	DefaultOfflineMaxTotal      money.Fen = 500_00
	DefaultOfflineMaxCount                = 50
	DefaultOfflineMaxPerCardDay money.Fen = 60_00
	DefaultOfflineCardMaxAge              = 72 * time.Hour
)

// Reconcile defaults, applied when a key is absent or empty.
const (
	DefaultReconcileInterval    = 10 * time.Second
	DefaultReconcileMaxInterval = 10 * time.Minute
	DefaultReconcileGiveUpAfter = 72 * time.Hour
)

// Offline holds the limits within which the terminal accepts a payment while
// the platform is unreachable. Every accepted offline payment is a debt the
// terminal must later collect, so the limits bound what an outage can cost.
type Offline struct {
	// Enabled turns offline acceptance on. Default: true in canteen mode,
	// false in kiosk mode.
	Enabled bool
	// MaxAmount caps one offline payment.
	MaxAmount money.Fen
	// MaxTotal caps the sum of the offline payments not yet settled.
	MaxTotal money.Fen
	// MaxCount caps the number of offline payments not yet settled.
	MaxCount int
	// MaxPerCardDay caps what one card may be accepted offline for in one
	// platform-local day.
	MaxPerCardDay money.Fen
	// CardMaxAge is how recently a card must have been seen online (its
	// lost/frozen flags and balance checked) to pay offline.
	CardMaxAge time.Duration
}

// Reconcile tells the reconciler how to retry unfinished orders and what to
// do with orphan charges.
type Reconcile struct {
	// Interval is the first retry delay; later delays double, with jitter,
	// up to MaxInterval.
	Interval    time.Duration
	MaxInterval time.Duration
	// GiveUpAfter is how long after its creation an order is retried before
	// it becomes needs_review. Orders are never deleted.
	GiveUpAfter time.Duration
	// Orphans is OrphansRefund or OrphansReview.
	Orphans string
}

func checkMode(p *problems, out *Terminal, raw string) {
	switch raw {
	case "":
		out.Mode = DefaultMode
	case ModeCanteen, ModeKiosk:
		out.Mode = raw
	default:
		p.addf("terminal.mode", "%q is not one of %s, %s", raw, ModeCanteen, ModeKiosk)
	}
}

// checkOffline fills out from raw. mode is the already checked terminal
// mode, or "" when it was invalid (the default then does not matter: the
// load fails anyway).
func checkOffline(p *problems, out *Offline, raw *rawOffline, mode string) {
	checkBool(p, "offline.enabled", raw.Enabled, mode != ModeKiosk, &out.Enabled)

	// The limits are checked even when offline acceptance is off, so that a
	// mistake does not wait to surface until someone turns it on.
	amountOK := checkYuan(p, "offline.max_amount", raw.MaxAmount, DefaultOfflineMaxAmount, &out.MaxAmount)
	totalOK := checkYuan(p, "offline.max_total", raw.MaxTotal, DefaultOfflineMaxTotal, &out.MaxTotal)
	checkYuan(p, "offline.max_per_card_day", raw.MaxPerCardDay, DefaultOfflineMaxPerCardDay, &out.MaxPerCardDay)
	if amountOK && totalOK && out.MaxAmount > out.MaxTotal {
		p.addf(p.blame("offline.max_amount", "offline.max_total"),
			"offline.max_amount %s is more than offline.max_total %s, so a payment that large could never be accepted",
			out.MaxAmount.Yuan(), out.MaxTotal.Yuan())
	}

	checkInt(p, "offline.max_count", raw.MaxCount, DefaultOfflineMaxCount, 1, 0,
		" (turn offline.enabled off instead)", &out.MaxCount)

	checkDuration(p, "offline.card_max_age", raw.CardMaxAge, DefaultOfflineCardMaxAge, &out.CardMaxAge)
}

func checkReconcile(p *problems, out *Reconcile, raw *rawReconcile) {
	intervalOK := checkDuration(p, "reconcile.interval", raw.Interval, DefaultReconcileInterval, &out.Interval)
	maxOK := checkDuration(p, "reconcile.max_interval", raw.MaxInterval, DefaultReconcileMaxInterval, &out.MaxInterval)
	giveUpOK := checkDuration(p, "reconcile.give_up_after", raw.GiveUpAfter, DefaultReconcileGiveUpAfter, &out.GiveUpAfter)
	if intervalOK && maxOK && out.Interval > out.MaxInterval {
		p.addf(p.blame("reconcile.interval", "reconcile.max_interval"),
			"reconcile.interval %s is longer than reconcile.max_interval %s", out.Interval, out.MaxInterval)
	}
	// Giving up before the back-off reaches its ceiling would leave an order
	// only a retry or two before a person has to look at it.
	if maxOK && giveUpOK && out.GiveUpAfter < out.MaxInterval {
		p.addf(p.blame("reconcile.give_up_after", "reconcile.max_interval"),
			"reconcile.give_up_after %s is shorter than reconcile.max_interval %s", out.GiveUpAfter, out.MaxInterval)
	}

	switch raw.Orphans {
	case "":
		out.Orphans = DefaultOrphans
	case OrphansRefund, OrphansReview:
		out.Orphans = raw.Orphans
	default:
		p.addf("reconcile.orphans", "%q is not one of %s, %s", raw.Orphans, OrphansRefund, OrphansReview)
	}
}

// checkYuan reads a yuan amount of at least 0.01 into out, or def when raw
// is empty, and reports whether out holds a valid amount.
func checkYuan(p *problems, field, raw string, def money.Fen, out *money.Fen) bool {
	return checkYuanFrom(p, field, raw, def, 1, out)
}

// checkYuanFrom is checkYuan for amounts of at least least.
func checkYuanFrom(p *problems, field, raw string, def, least money.Fen, out *money.Fen) bool {
	if raw == "" {
		*out = def
		return true
	}
	f, err := money.ParseYuan(raw)
	switch {
	case err != nil:
		// ParseYuan's message quotes the value and says what is wrong with it.
		p.add(field, fmt.Errorf("%w; want yuan such as \"30.00\"", err))
		return false
	case f < least:
		p.addf(field, "%q is out of range, want at least %s", raw, least.Yuan())
		return false
	}
	*out = f
	return true
}

// checkInt reads a whole number of at least least (and at most most,
// unless most is 0) into out, or def when raw is empty; hint ("" or " (…)")
// ends the out-of-range message.
func checkInt(p *problems, field, raw string, def, least, most int, hint string, out *int) {
	if raw == "" {
		*out = def
		return
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		p.addf(field, "%q is not a whole number", raw)
	case n < least && most == 0:
		p.addf(field, "%d is out of range, want at least %d%s", n, least, hint)
	case n < least || (most != 0 && n > most):
		p.addf(field, "%d is out of range, want %d to %d%s", n, least, most, hint)
	default:
		*out = n
	}
}

// checkDuration reads a positive Go duration into out, or def when raw is
// empty, and reports whether out holds a valid duration.
func checkDuration(p *problems, field, raw string, def time.Duration, out *time.Duration) bool {
	if raw == "" {
		*out = def
		return true
	}
	d, err := time.ParseDuration(raw)
	switch {
	case err != nil:
		p.addf(field, "%q is not a duration such as 10s, 10m or 72h", raw)
		return false
	case d <= 0:
		p.addf(field, "%s is out of range, want more than 0", d)
		return false
	}
	*out = d
	return true
}

// blame picks which of two fields a broken rule between them is reported
// on: the first when the file sets it, else the second. Only a key the file
// sets has a line, and the operator must be pointed at what they wrote, not
// at a default.
func (p *problems) blame(first, second string) string {
	if _, ok := p.lines[first]; ok {
		return first
	}
	if _, ok := p.lines[second]; ok {
		return second
	}
	return first
}
