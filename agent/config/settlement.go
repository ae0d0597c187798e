package config

import (
	"strconv"
	"strings"
	"time"
)

// Settlement defaults and limits (the settlement section).
const (
	// DefaultSettlementAt is when, after platform-local midnight, the
	// previous day is settled: late enough for the platform to have made
	// the day's bill, early enough to be done before the canteen opens.
	DefaultSettlementAt     = 2*time.Hour + 30*time.Minute
	DefaultSettlementJitter = 30 * time.Minute
	// MaxSettlementJitter keeps every terminal's settlement within half a
	// day of settlement.at.
	MaxSettlementJitter          = 12 * time.Hour
	DefaultSettlementCatchUpDays = 7
	MinSettlementCatchUpDays     = 1
	MaxSettlementCatchUpDays     = 31
	DefaultSettlementRetry       = time.Minute
	DefaultSettlementMaxRetry    = time.Hour
)

// settlementAtLayout is how settlement.at is written.
const settlementAtLayout = "15:04"

// Settlement says when and how the terminal settles each platform day: it
// downloads the day's bill, reconciles it with the journal and acts on it.
type Settlement struct {
	// Enabled turns daily settlement on. Off, bills are reconciled only by
	// kioskctl bill --reconcile.
	Enabled bool
	// At is the time of day, after platform-local midnight, from which the
	// previous day is settled (settlement.at, "02:30" in the file).
	At time.Duration
	// Jitter spreads a fleet: each terminal waits a delay below Jitter,
	// fixed by its termid and the date, after At.
	Jitter time.Duration
	// Encrypted asks for the bill with crypt_type 1 (settlement.crypt: 1).
	Encrypted bool
	// CatchUpDays is how many days back the terminal settles days it
	// missed (stopped over them, or failing).
	CatchUpDays int
	// Retry is the first wait after a failed attempt; it doubles up to
	// MaxRetry.
	Retry, MaxRetry time.Duration
}

// AtClock returns At as the file writes it, HH:MM.
func (s Settlement) AtClock() string {
	return time.Time{}.Add(s.At).Format(settlementAtLayout)
}

type rawSettlement struct {
	Enabled     string `yaml:"enabled"`
	At          string `yaml:"at"`
	Jitter      string `yaml:"jitter"`
	Crypt       string `yaml:"crypt"`
	CatchUpDays string `yaml:"catch_up_days"`
	Retry       string `yaml:"retry"`
	MaxRetry    string `yaml:"max_retry"`
}

func checkSettlement(p *problems, out *Settlement, raw *rawSettlement) {
	// As with offline, the other keys are checked even when settlement is
	// off, so that a mistake surfaces before someone turns it on.
	checkBool(p, "settlement.enabled", raw.Enabled, true, &out.Enabled)

	out.At = DefaultSettlementAt
	if raw.At != "" {
		t, err := time.Parse(settlementAtLayout, raw.At)
		if err != nil {
			p.addf("settlement.at", "%q is not a time of day HH:MM from 00:00 to 23:59", raw.At)
		} else {
			out.At = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
		}
	}

	out.Jitter = DefaultSettlementJitter
	if raw.Jitter != "" {
		d, err := time.ParseDuration(raw.Jitter)
		switch {
		case err != nil:
			p.addf("settlement.jitter", "%q is not a duration such as 0, 30m or 2h", raw.Jitter)
		case d < 0 || d > MaxSettlementJitter:
			p.addf("settlement.jitter", "%s is out of range, want 0 to %s", d, MaxSettlementJitter)
		default:
			out.Jitter = d
		}
	}

	// crypt is the crypt_type of the bill download; the default, 1, keeps
	// the day's card numbers and amounts encrypted on the wire.
	switch raw.Crypt {
	case "", "1":
		out.Encrypted = true
	case "0":
		out.Encrypted = false
	default:
		p.addf("settlement.crypt", "%q is not 0 (plain bill) or 1 (encrypted bill)", raw.Crypt)
	}

	out.CatchUpDays = DefaultSettlementCatchUpDays
	if raw.CatchUpDays != "" {
		n, err := strconv.Atoi(raw.CatchUpDays)
		switch {
		case err != nil:
			p.addf("settlement.catch_up_days", "%q is not a whole number", raw.CatchUpDays)
		case n < MinSettlementCatchUpDays || n > MaxSettlementCatchUpDays:
			p.addf("settlement.catch_up_days", "%d is out of range, want %d to %d",
				n, MinSettlementCatchUpDays, MaxSettlementCatchUpDays)
		default:
			out.CatchUpDays = n
		}
	}

	retryOK := checkDuration(p, "settlement.retry", raw.Retry, DefaultSettlementRetry, &out.Retry)
	maxOK := checkDuration(p, "settlement.max_retry", raw.MaxRetry, DefaultSettlementMaxRetry, &out.MaxRetry)
	if retryOK && maxOK && out.Retry > out.MaxRetry {
		p.addf(p.blame("settlement.retry", "settlement.max_retry"),
			"settlement.retry %s is longer than settlement.max_retry %s", out.Retry, out.MaxRetry)
	}
}

// checkBool reads true or false, in any case, into out, or def when raw is
// empty.
func checkBool(p *problems, field, raw string, def bool, out *bool) {
	switch strings.ToLower(raw) {
	case "":
		*out = def
	case "true":
		*out = true
	case "false":
		*out = false
	default:
		p.addf(field, "%q is neither true nor false", raw)
	}
}
