package config

import (
	"regexp"
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// When a payment needs the card's query password (payment.password).
const (
	PasswordNever  = "never"
	PasswordAlways = "always"
	PasswordAbove  = "above"
)

// Payment defaults, applied when a key is absent or empty. A self-service
// kiosk asks for the password above DefaultPasswordAbove: nobody watches
// who taps a found card there. A staffed canteen till does not ask.
const (
	DefaultPasswordAbove    money.Fen = 20_00
	DefaultPasswordMaxTries           = 3
	DefaultPasswordLock               = 15 * time.Minute
)

// Payment says when a payment needs the card's query password, and how
// many wrong ones lock a card on this terminal.
type Payment struct {
	// Password is PasswordNever, PasswordAlways or PasswordAbove. Default:
	// above in kiosk (self-service) mode, never in canteen mode.
	Password string
	// PasswordAbove: with PasswordAbove, amounts strictly above it need
	// the password.
	PasswordAbove money.Fen
	// PasswordMaxTries wrong passwords lock a card for PasswordLock.
	PasswordMaxTries int
	PasswordLock     time.Duration
	// PasswordRetcodes are the platform's retcodes, beside "account not
	// found", that mean a wrong password.
	PasswordRetcodes []string
}

type rawPayment struct {
	Password         string   `yaml:"password"`
	PasswordAbove    string   `yaml:"password_above"`
	PasswordMaxTries string   `yaml:"password_max_tries"`
	PasswordLock     string   `yaml:"password_lock"`
	PasswordRetcodes []string `yaml:"password_retcodes"`
}

// retcodeRE is a business retcode as the platform writes them.
var retcodeRE = regexp.MustCompile(`^[1-9][0-9]{0,7}$`)

// checkPayment fills out from raw; mode is the screens' mode (ui.mode,
// default terminal.mode), "" when it was invalid.
func checkPayment(p *problems, out *Payment, raw *rawPayment, mode string) {
	switch raw.Password {
	case "":
		out.Password = PasswordNever
		if mode == ModeKiosk {
			out.Password = PasswordAbove
		}
	case PasswordNever, PasswordAlways, PasswordAbove:
		out.Password = raw.Password
	default:
		p.addf("payment.password", "%q is not one of %s, %s, %s", raw.Password, PasswordNever, PasswordAlways, PasswordAbove)
	}
	checkYuanFrom(p, "payment.password_above", raw.PasswordAbove, DefaultPasswordAbove, 0, &out.PasswordAbove)
	checkInt(p, "payment.password_max_tries", raw.PasswordMaxTries, DefaultPasswordMaxTries, 1, 100, "", &out.PasswordMaxTries)
	checkDuration(p, "payment.password_lock", raw.PasswordLock, DefaultPasswordLock, &out.PasswordLock)
	out.PasswordRetcodes = nil
	for i, c := range raw.PasswordRetcodes {
		if !retcodeRE.MatchString(c) {
			p.addf("payment.password_retcodes", "item %d, %q, is not a retcode (1 to 8 digits, no leading zero)", i+1, c)
			continue
		}
		out.PasswordRetcodes = append(out.PasswordRetcodes, c)
	}
}
