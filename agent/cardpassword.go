package agent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// PasswordMode says when a payment needs the card's query password
// (query.card pwd).
type PasswordMode string

// Password modes.
const (
	// PasswordNever: no payment needs it (a staffed canteen till).
	PasswordNever PasswordMode = "never"
	// PasswordAlways: every payment needs it.
	PasswordAlways PasswordMode = "always"
	// PasswordAbove: payments strictly above PasswordPolicy.Above need it.
	PasswordAbove PasswordMode = "above"
)

// Password policy defaults.
const (
	DefaultPasswordMaxTries = 3
	DefaultPasswordLock     = 15 * time.Minute
	// PasswordProofLife is how long a verified password covers payments
	// of its account: long enough to choose and confirm an amount, short
	// enough that a card left at the kiosk does not stay unlocked.
	PasswordProofLife = 2 * time.Minute
)

// PasswordPolicy says when a payment needs the card's password, and the
// attempt limits.
type PasswordPolicy struct {
	Mode PasswordMode
	// Above is the threshold of PasswordAbove: amounts strictly above it
	// need the password.
	Above money.Fen
	// MaxTries wrong passwords for one card lock it on this terminal
	// (default 3).
	MaxTries int
	// Lock is how long a card stays locked (default 15 minutes).
	Lock time.Duration
	// WrongRetcodes are the platform's retcodes, beside "account not
	// found" (60003), that mean a wrong password after a pwd query: the
	// spec names none, and platforms differ (docs: NOTES.md, field
	// variations).
	WrongRetcodes []string
}

func (p *PasswordPolicy) defaults() {
	if p.Mode == "" {
		p.Mode = PasswordNever
	}
	if p.MaxTries <= 0 {
		p.MaxTries = DefaultPasswordMaxTries
	}
	if p.Lock <= 0 {
		p.Lock = DefaultPasswordLock
	}
	p.WrongRetcodes = slices.Clone(p.WrongRetcodes)
}

// Required reports whether a payment of amount needs the card's password.
// An unknown mode requires it: a typo must not turn the check off.
func (p PasswordPolicy) Required(amount money.Fen) bool {
	switch p.Mode {
	case PasswordNever, "":
		return false
	case PasswordAbove:
		return amount > p.Above
	}
	return true
}

// PasswordRequired reports whether a payment of amount needs the card's
// password (VerifyCardPassword, then PayInput.Proof).
func (s *Service) PasswordRequired(amount money.Fen) bool { return s.opts.Password.Required(amount) }

// PasswordProof is an opaque proof that the password of one account was
// verified by this Service, good for PasswordProofLife and for that account
// only. Only VerifyCardPassword makes one.
type PasswordProof struct {
	issuer  *Service
	account string
	until   time.Time
}

// valid reports whether p covers a payment of account by s at now.
func (p *PasswordProof) valid(s *Service, account string, now time.Time) bool {
	return p != nil && p.issuer == s && p.account != "" && p.account == account && now.Before(p.until)
}

// WrongPasswordError: the platform refused the card's password.
type WrongPasswordError struct {
	// TriesLeft is how many more wrong passwords lock the card.
	TriesLeft int
	// LockedUntil is set when this wrong password locked the card on this
	// terminal.
	LockedUntil time.Time
}

func (e *WrongPasswordError) Error() string {
	if !e.LockedUntil.IsZero() {
		return "wrong card password: the card is locked on this terminal until " + e.LockedUntil.Format(time.RFC3339)
	}
	return fmt.Sprintf("wrong card password: %d tries left", e.TriesLeft)
}

// CardLockedError: too many wrong passwords were tried for this card on
// this terminal; the platform is not asked until Until.
type CardLockedError struct {
	Until time.Time
}

func (e *CardLockedError) Error() string {
	return "card password locked on this terminal until " + e.Until.Format(time.RFC3339)
}

// PasswordRequiredError is Pay's answer for an amount that needs the card's
// password without a valid proof for the account.
type PasswordRequiredError struct {
	// Offline: the platform is unreachable, so the password cannot be
	// checked; the payment was journalled as refused (refused_offline,
	// reason OfflinePassword). Otherwise nothing was journalled: the
	// caller should have asked for the password first.
	Offline bool
}

func (e *PasswordRequiredError) Error() string {
	if e.Offline {
		return "cannot accept offline: this amount needs the card's password, which cannot be checked while the platform is unreachable"
	}
	return "this amount needs the card's password"
}

// CardPasswordState is what the terminal keeps of one card's wrong
// passwords.
type CardPasswordState struct {
	// Failures counts wrong passwords since the last right one or lock.
	Failures int
	// LockedUntil is when the card's lock ends; zero for none.
	LockedUntil time.Time
	// Expires is when the entry no longer matters (the lock ended, or the
	// wrong passwords are old): the store drops it then, so that the
	// entries stay few.
	Expires time.Time
}

// CardPasswordStore keeps the cards' wrong-password counts across restarts
// (the journal implements it). Cards are keyed by a salted hash of the
// account, never the account: the salt is made once and kept with the
// entries.
type CardPasswordStore interface {
	// CardPasswordSalt returns the terminal's salt, made and kept on first
	// use.
	CardPasswordSalt(ctx context.Context) ([]byte, error)
	// CardPasswordStates returns the entries not expired at now.
	CardPasswordStates(ctx context.Context, now time.Time) (map[string]CardPasswordState, error)
	// SaveCardPasswordState replaces the entry of key (the zero state
	// removes it) and drops the entries expired at now, in one commit.
	SaveCardPasswordState(ctx context.Context, key string, st CardPasswordState, now time.Time) error
}

// PasswordCheck is what one VerifyCardPassword came to, for metrics and
// logs (Options.OnPasswordCheck). It holds neither the password nor the
// account.
type PasswordCheck struct {
	// OK: the platform accepted the password.
	OK bool
	// Wrong: the platform refused it; Locked when that locked the card.
	Wrong, Locked bool
	// Refused: the card was locked; the platform was not asked.
	Refused bool
	// TriesLeft after a wrong password.
	TriesLeft int
}

// Failure reports whether the check counts as a failed password: a wrong
// one, or one tried while the card was locked.
func (c PasswordCheck) Failure() bool { return c.Wrong || c.Refused }

// passwordGuard holds the cards' wrong-password counts: in the process,
// and in the journal, read once.
type passwordGuard struct {
	// mu is held for a whole verification, platform call included: two
	// guesses at once must not both pass the count (a kiosk checks one
	// card at a time anyway).
	mu     sync.Mutex
	store  CardPasswordStore
	salt   []byte
	states map[string]CardPasswordState
	loaded bool
}

func newPasswordGuard(j Journal) *passwordGuard {
	return &passwordGuard{store: j, states: map[string]CardPasswordState{}}
}

// load reads the salt and the entries once.
func (g *passwordGuard) load(ctx context.Context, now time.Time) error {
	if g.loaded {
		return nil
	}
	salt, err := g.store.CardPasswordSalt(ctx)
	if err != nil {
		return fmt.Errorf("reading the card password lockouts: %w", err)
	}
	states, err := g.store.CardPasswordStates(ctx, now)
	if err != nil {
		return fmt.Errorf("reading the card password lockouts: %w", err)
	}
	g.salt, g.states, g.loaded = salt, states, true
	if g.states == nil {
		g.states = map[string]CardPasswordState{}
	}
	return nil
}

// key is the entry key of account: HMAC-SHA256 under the salt, so that the
// journal does not hold the accounts whose passwords were guessed.
func (g *passwordGuard) key(account string) string {
	m := hmac.New(sha256.New, g.salt)
	m.Write([]byte(account))
	return hex.EncodeToString(m.Sum(nil))
}

// state returns key's live entry at now.
func (g *passwordGuard) state(key string, now time.Time) CardPasswordState {
	st := g.states[key]
	if !st.Expires.IsZero() && !now.Before(st.Expires) {
		return CardPasswordState{}
	}
	return st
}

// save keeps st in the process, and in the store: a journal that cannot be
// written still locks the card while the process runs.
func (g *passwordGuard) save(ctx context.Context, key string, st CardPasswordState, now time.Time) error {
	for k, e := range g.states {
		if !now.Before(e.Expires) {
			delete(g.states, k)
		}
	}
	if st == (CardPasswordState{}) {
		delete(g.states, key)
	} else {
		g.states[key] = st
	}
	if err := g.store.SaveCardPasswordState(ctx, key, st, now); err != nil {
		return fmt.Errorf("keeping the card password lockout: %w", err)
	}
	return nil
}

// locked counts the cards locked at now.
func (g *passwordGuard) locked(ctx context.Context, now time.Time) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.load(ctx, now); err != nil {
		return 0, err
	}
	n := 0
	for _, st := range g.states {
		if now.Before(st.LockedUntil) {
			n++
		}
	}
	return n, nil
}

// CardPasswordLocks counts the cards locked now on this terminal after too
// many wrong passwords (the kiosk_card_password_locked gauge).
func (s *Service) CardPasswordLocks(ctx context.Context) (int, error) {
	return s.passwords.locked(ctx, s.now())
}

// VerifyCardPassword checks the card's query password pwd through
// query.card (idtype "acc", id account, pwd) and returns a proof for Pay.
// It zeroes pwd before returning; the password is never journalled, logged
// or put in an error.
//
// Errors: *WrongPasswordError when the platform refused it; *CardLockedError
// while the card is locked on this terminal (the platform is not asked);
// ErrPlatformUnreachable when the platform could not be asked (Pay then
// refuses an amount that needs the password, journalling the refusal);
// *InvalidRequest for an empty or over-long password; the agent's other
// errors (ErrOutcomeUnknown, *Declined) otherwise. A journal that cannot
// be read fails the check.
func (s *Service) VerifyCardPassword(ctx context.Context, account string, pwd []byte) (PasswordProof, error) {
	defer clear(pwd)
	switch {
	case account == "":
		return PasswordProof{}, &InvalidRequest{Reason: "no account"}
	case len(pwd) == 0:
		// An empty pwd is no pwd at all on the wire: the platform would
		// answer the plain query, and the check would pass.
		return PasswordProof{}, &InvalidRequest{Reason: "the password is empty"}
	case len(pwd) > 32:
		return PasswordProof{}, &InvalidRequest{Reason: "the password is longer than 32 bytes"}
	}
	g := s.passwords
	g.mu.Lock()
	defer g.mu.Unlock()
	now := s.now()
	if err := g.load(ctx, now); err != nil {
		return PasswordProof{}, err
	}
	key := g.key(account)
	st := g.state(key, now)
	if now.Before(st.LockedUntil) {
		s.passwordChecked(PasswordCheck{Refused: true})
		return PasswordProof{}, &CardLockedError{Until: st.LockedUntil}
	}

	err := s.queryPassword(ctx, account, pwd)
	s.observe(err)
	now = s.now()
	p := s.opts.Password
	switch {
	case err == nil:
		if st != (CardPasswordState{}) {
			// A count that could not be reset in the journal is reset
			// in the process; the proof stands either way.
			_ = g.save(ctx, key, CardPasswordState{}, now)
		}
		s.passwordChecked(PasswordCheck{OK: true})
		return PasswordProof{issuer: s, account: account, until: now.Add(PasswordProofLife)}, nil
	case s.wrongPassword(err):
		st.Failures++
		werr := &WrongPasswordError{TriesLeft: p.MaxTries - st.Failures}
		st.Expires = now.Add(p.Lock)
		if st.Failures >= p.MaxTries {
			st = CardPasswordState{LockedUntil: now.Add(p.Lock), Expires: now.Add(p.Lock)}
			werr = &WrongPasswordError{LockedUntil: st.LockedUntil}
		}
		s.passwordChecked(PasswordCheck{Wrong: true, Locked: !werr.LockedUntil.IsZero(), TriesLeft: werr.TriesLeft})
		if serr := g.save(ctx, key, st, now); serr != nil {
			return PasswordProof{}, errors.Join(werr, serr)
		}
		return PasswordProof{}, werr
	}
	return PasswordProof{}, domainError(err)
}

// queryPassword asks query.card with the password. The string copy of pwd
// cannot be zeroed; it lives only as long as the request does.
func (s *Service) queryPassword(ctx context.Context, account string, pwd []byte) error {
	pp, ok := s.platform.(CardPasswordChecker)
	if !ok {
		return errors.New("this platform cannot check card passwords")
	}
	return pp.CheckCardPassword(ctx, account, string(pwd))
}

// wrongPassword reports whether err is the platform's answer to a wrong
// pwd: "account not found" (60003) or one of the configured retcodes. The
// spec names no retcode for it (NOTES.md, field variations).
func (s *Service) wrongPassword(err error) bool {
	var be *onecard.BusinessError
	if !errors.As(err, &be) {
		return false
	}
	return be.Retcode == onecard.RetcodeAccountNotFound || slices.Contains(s.opts.Password.WrongRetcodes, be.Retcode)
}

func (s *Service) passwordChecked(c PasswordCheck) {
	if s.opts.OnPasswordCheck != nil {
		s.opts.OnPasswordCheck(c)
	}
}

// refusePasswordOffline journals o as refused because its amount needs the
// card's password and the platform cannot check it, and returns the
// answer: like an offline refusal, it is in the journal, the logs and the
// metrics.
func (s *Service) refusePasswordOffline(ctx context.Context, o Order) (Order, error) {
	const reason = "the amount needs the card's password, which cannot be checked while the platform is unreachable"
	o.State, o.Code, o.Message = StateVoided, OfflineRefusedCode, reason
	o.Outcome = Outcome{Kind: OutcomeRefusedOffline, Reason: OfflinePassword}
	o.History = []Transition{{At: o.Created, To: StateVoided, Note: "platform unreachable: " + reason}}
	perr := &PasswordRequiredError{Offline: true}
	if err := s.create(ctx, o); err != nil {
		return Order{}, errors.Join(perr, fmt.Errorf("recording the refusal: %w", err))
	}
	return o, perr
}
