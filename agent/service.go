package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Terminal is this terminal's identity on the platform, from its config.
type Terminal struct {
	TermID  string
	MercAcc string
	// AccType is the account type charged by default ("###", the card).
	AccType string
}

// OfflinePolicy bounds what the terminal accepts while the platform is
// unreachable (store and forward).
type OfflinePolicy struct {
	Enabled       bool
	MaxAmount     money.Fen // per transaction
	MaxTotal      money.Fen // outstanding offline amount
	MaxCount      int       // outstanding offline orders
	MaxPerCardDay money.Fen
	// CardMaxAge: the card must have been seen online this recently.
	CardMaxAge time.Duration
}

// ReconcilePolicy tunes the reconciler.
type ReconcilePolicy struct {
	// Interval is the first retry delay; it doubles, with jitter, up to
	// MaxInterval.
	Interval    time.Duration
	MaxInterval time.Duration
	// GiveUpAfter: an order unfinished this long after its creation
	// becomes needs_review.
	GiveUpAfter time.Duration
	// RequestTimeout is the platform timeout: an order is not queried
	// until this long after its request left, so that the query cannot
	// overtake the request.
	RequestTimeout time.Duration
	// ReviewOrphans makes a charge the customer was never told about
	// needs_review instead of refunding it automatically.
	ReviewOrphans bool
}

// DefaultLocation is the platform's time zone when none is configured:
// China Standard Time (UTC+8, no daylight saving; Asia/Shanghai today),
// the zone of the campus platforms. Order numbers, bill days and the
// per-card daily offline limit are counted in Options.Location, and only
// there: the journal keeps no zone, it counts by each order's Day.
func DefaultLocation() *time.Location { return time.FixedZone("CST", 8*3600) }

// Options configure a Service.
type Options struct {
	Terminal   Terminal
	Offline    OfflinePolicy
	Reconcile  ReconcilePolicy
	Settlement SettlementPolicy
	// Password says when a payment needs the card's query password
	// (VerifyCardPassword), and its attempt limits.
	Password PasswordPolicy
	// OnPasswordCheck, when set, is called after each VerifyCardPassword
	// that reached a verdict (metrics, logs); it must not block.
	OnPasswordCheck func(PasswordCheck)
	// Location is the platform's zone (order numbers, bill days, the
	// per-card daily offline limit); default DefaultLocation.
	Location *time.Location
	Clock    Clock
	// Jitter returns a number in [0,1) for back-off jitter; default
	// math/rand/v2.
	Jitter func() float64
}

func (o *Options) defaults() {
	if o.Terminal.AccType == "" {
		o.Terminal.AccType = onecard.AccTypeCard
	}
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Location == nil {
		o.Location = DefaultLocation()
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	r := &o.Reconcile
	if r.Interval <= 0 {
		r.Interval = 10 * time.Second
	}
	if r.MaxInterval < r.Interval {
		r.MaxInterval = max(10*time.Minute, r.Interval)
	}
	if r.GiveUpAfter <= 0 {
		r.GiveUpAfter = 72 * time.Hour
	}
	if r.RequestTimeout <= 0 {
		r.RequestTimeout = 10 * time.Second
	}
	o.Settlement.defaults()
	o.Password.defaults()
}

// Service is the terminal's payment flow. Every order is journalled before
// its request leaves the process, and its outcome is journalled before it is
// returned (and so before it is shown to anyone).
type Service struct {
	platform Platform
	journal  Journal
	opts     Options
	hub      *hub

	// inflight holds orders this process is sending right now, so that the
	// reconciler never takes a live request for an orphan.
	mu       sync.Mutex
	inflight map[string]bool
	// offlineMu makes an offline acceptance's check and its journal write
	// one step, so that two payments at once cannot both fit under a limit
	// that only one of them fits under.
	offlineMu sync.Mutex
	// wake nudges a running reconciler (new unfinished work).
	wake chan struct{}
	// lastPass is the latest finished reconciler pass, for LastReconcile.
	lastPass atomic.Pointer[ReconcilePass]
	// pass is held by the one reconciler pass (or bill reconciliation, or
	// resolution) that may act on the journal's orders at a time.
	pass chan struct{}
	// passwords holds the cards' wrong-password counts.
	passwords *passwordGuard
}

// NewService builds the payment flow.
func NewService(p Platform, j Journal, opts Options) *Service {
	opts.defaults()
	return &Service{
		platform: p, journal: j, opts: opts,
		hub:      newHub(opts.Clock.Now()),
		inflight: map[string]bool{},
		wake:     make(chan struct{}, 1),
		pass:     make(chan struct{}, 1),

		passwords: newPasswordGuard(j),
	}
}

// Platform returns the token-managed protocol client.
func (s *Service) Platform() Platform { return s.platform }

// Journal returns the journal the service writes.
func (s *Service) Journal() Journal { return s.journal }

// Options returns a copy of the options in use, defaults applied (the
// offline limits, for diagnostics). It holds no secret.
func (s *Service) Options() Options { return s.opts }

// Location returns the platform's time zone: the one order numbers and
// bill days are written in.
func (s *Service) Location() *time.Location { return s.opts.Location }

// ClockOffset returns the platform's clock minus this terminal's, as the
// HTTP Date header of the latest platform reply showed it, and when that
// reply arrived; ok is false before the first reply. It is the offset to
// the platform's web server, good to about a second (see
// onecard.Client.ClockOffset); the platform rejects requests whose
// timestamp is more than 6 minutes off.
func (s *Service) ClockOffset() (offset time.Duration, at time.Time, ok bool) {
	return s.platform.ClockOffset()
}

// Subscribe returns connectivity and settlement events until ctx ends.
func (s *Service) Subscribe(ctx context.Context) <-chan Event { return s.hub.subscribe(ctx) }

// Online reports whether the last platform exchange reached the platform,
// and since when that has been so.
func (s *Service) Online() (bool, time.Time) { return s.hub.state() }

func (s *Service) now() time.Time { return s.opts.Clock.Now() }

// observe updates connectivity from a call's error: reaching the platform
// at all (even for a refusal) means online; a request that could not leave
// means offline.
func (s *Service) observe(err error) {
	// Only a request that could not be sent at all (no route, refused,
	// no DNS) says the platform is unreachable; a lost reply or a timeout
	// after sending is one order's bad luck, not a reason to stop trying.
	var te *onecard.TransportError
	switch {
	case isNotSent(err):
		s.hub.setOnline(false, s.now(), err.Error())
	case err == nil, !errors.As(err, &te) && !errors.Is(err, ErrTokenRateLimited):
		s.hub.setOnline(true, s.now(), "")
	}
}

// NewOrderNo returns a fresh order number: the terminal id (4 digits), the
// platform-local time to the second (14) and a sequence persisted in the
// journal (6 digits), 24 bytes in all. The journal's stamp
// (Journal.NextOrderStamp) never goes back in time, even when the clock or
// the journal does, and the sequence separates numbers of one second; the
// termid makes them unique across terminals sharing a platform account; the
// time makes them unique across a lost and recreated journal.
func (s *Service) NewOrderNo(ctx context.Context) (string, error) {
	var term int
	if _, err := fmt.Sscanf(s.opts.Terminal.TermID, "%d", &term); err != nil {
		return "", fmt.Errorf("termid %q is not a number", s.opts.Terminal.TermID)
	}
	st, err := s.journal.NextOrderStamp(ctx, s.now())
	if err != nil {
		return "", fmt.Errorf("order number: %w", err)
	}
	return fmt.Sprintf("%04d%s%06d", term, st.At.In(s.opts.Location).Format("20060102150405"), st.Seq%1_000_000), nil
}

// QueryCard looks up an identity's cards online and caches them for offline
// decisions. Errors are the agent's: ErrCardNotFound, *Declined,
// ErrPlatformUnreachable, ErrOutcomeUnknown, *InvalidRequest.
func (s *Service) QueryCard(ctx context.Context, id Identity) ([]Card, error) {
	cards, err := s.platform.QueryCard(ctx, id)
	s.observe(err)
	if err != nil {
		return nil, lookupError(err)
	}
	for _, c := range cards {
		cc := CachedCard{Account: c.Account, AccType: s.opts.Terminal.AccType, MaskedName: MaskName(c.Name),
			Lost: c.Lost, Frozen: c.Frozen, Balance: c.Balance, SeenAt: s.now()}
		// Cached under its account, which is what a payment names, and
		// under the identity scanned when one card answers: one commit.
		ids := []Identity{{Type: "acc", ID: c.Account}}
		if len(cards) == 1 {
			ids = append(ids, id)
		}
		if err := s.journal.SaveCard(ctx, cc, ids...); err != nil {
			return cards, fmt.Errorf("caching card: %w", err)
		}
	}
	return cards, nil
}

// LookupCard asks the platform, and when it is unreachable answers from the
// card cache (if the card was seen recently enough for offline payments).
func (s *Service) LookupCard(ctx context.Context, id Identity) (CardLookup, error) {
	cards, err := s.QueryCard(ctx, id)
	var declined *Declined
	if err == nil || errors.Is(err, ErrCardNotFound) || errors.As(err, &declined) || errors.As(err, new(*InvalidRequest)) {
		return CardLookup{Cards: cards}, err
	}
	c, ok, cerr := s.journal.Card(ctx, id.Type, id.ID)
	if cerr != nil || !ok || s.now().Sub(c.SeenAt) > s.opts.Offline.CardMaxAge {
		return CardLookup{}, err
	}
	return CardLookup{Cards: []Card{{Account: c.Account, Name: c.MaskedName, Balance: c.Balance,
		Lost: c.Lost, Frozen: c.Frozen, Cached: true, SeenAt: c.SeenAt}}}, nil
}

// PayInput is what a payment needs beyond the terminal's own identity.
type PayInput struct {
	Account string
	// AccType defaults to the terminal's.
	AccType string
	Amount  money.Fen
	// OrderNo defaults to NewOrderNo.
	OrderNo string
	Remark  string
	Attach  string
	// Proof is VerifyCardPassword's, for an amount that needs the card's
	// password (PasswordRequired); it must be for Account and still
	// fresh.
	Proof *PasswordProof
	// Attended: a person of the terminal's side is there (a canteen's
	// cashier, a technician with kioskctl), so the card's password is not
	// asked whatever the amount. The policy is for self-service payments:
	// a kiosk switched to canteen mode in diagnostics pays like a till.
	Attended bool
}

// Pay takes a payment and returns the journalled order. Its Outcome is
// what to tell the customer, journalled before Pay returns:
//   - paid: confirmed by the platform.
//   - offline_accepted ("recorded"): the platform is unreachable and the
//     payment was accepted within the offline limits.
//   - unknown ("will be confirmed"): sent, no answer; the reconciler
//     settles it. The error wraps ErrOutcomeUnknown.
//   - declined: refused by the platform; the error is a *Declined.
//   - refused_offline: the platform is unreachable and the payment is
//     outside the offline limits; the error holds an *OfflineRefusal.
//   - voided: it never reached the platform (ErrPlatformUnreachable).
//
// An amount that needs the card's password (PasswordRequired) without a
// valid Proof is refused with a *PasswordRequiredError: while the platform
// is unreachable the refusal is journalled (refused_offline, reason
// OfflinePassword) and offline acceptance never covers it; online nothing
// is journalled.
//
// An order with no Outcome means nothing was journalled (an
// *InvalidRequest, a journal failure: nothing was charged), or the outcome
// could not be journalled: the order stays sending and the customer must
// be told it will be confirmed.
func (s *Service) Pay(ctx context.Context, in PayInput) (Order, error) {
	req := onecard.PayRequest{
		OrderNo: in.OrderNo, Account: in.Account, AccType: in.AccType, MercAcc: s.opts.Terminal.MercAcc,
		Amount: in.Amount, Remark: in.Remark, Attach: in.Attach, TermID: s.opts.Terminal.TermID,
	}
	if req.AccType == "" {
		req.AccType = s.opts.Terminal.AccType
	}
	// Online, a missing proof is the caller's mistake: refused before
	// anything is journalled. Offline, the refusal is the customer's
	// answer, journalled below like any other.
	needsPassword := !in.Attended && s.PasswordRequired(req.Amount) && !in.Proof.valid(s, req.Account, s.now())
	if online, _ := s.hub.state(); needsPassword && online {
		return Order{}, &PasswordRequiredError{}
	}
	if req.OrderNo == "" {
		no, err := s.NewOrderNo(ctx)
		if err != nil {
			return Order{}, err
		}
		req.OrderNo = no
	}
	if err := req.Validate(); err != nil {
		return Order{}, domainError(err)
	}
	now := s.now()
	o := Order{
		OrderNo: req.OrderNo, Kind: KindPay, Account: req.Account, AccType: req.AccType,
		MercAcc: req.MercAcc, TermID: req.TermID, Amount: req.Amount,
		Created: now, Updated: now, State: StateSending, Day: s.day(now),
	}
	if needsPassword {
		return s.refusePasswordOffline(ctx, o)
	}
	// Known offline: accept (or refuse) without waiting for another
	// connection to fail. The order is journalled before it is shown.
	if online, _ := s.hub.state(); !online && s.opts.Offline.Enabled {
		s.offlineMu.Lock()
		defer s.offlineMu.Unlock()
		if refusal := s.offlineCheck(ctx, o); refusal != nil {
			// Journalled like the refusal of a payment that found the
			// platform gone (settlePay): every refusal a customer saw is
			// in the journal, its logs and its metrics.
			o.State, o.Code, o.Message = StateVoided, OfflineRefusedCode, refusal.Reason
			o.Outcome = Outcome{Kind: OutcomeRefusedOffline, Reason: refusal.Code}
			o.History = []Transition{{At: now, To: StateVoided, Note: "platform unreachable: " + refusal.Reason}}
			if err := s.create(ctx, o); err != nil {
				// Refused all the same: nothing was charged.
				return Order{}, errors.Join(refusal, fmt.Errorf("recording the refusal: %w", err))
			}
			return o, refusal
		}
		o.State, o.NextAttempt, o.Outcome = StateOfflineAccepted, now, Outcome{Kind: OutcomeRecorded}
		o.History = []Transition{{At: now, To: StateOfflineAccepted, Note: "platform unreachable: accepted offline"}}
		if err := s.create(ctx, o); err != nil {
			return Order{}, err
		}
		s.nudge()
		return o, nil
	}
	o.LastSent, o.Attempts, o.NextAttempt = now, 1, s.sendWindow(now)
	o.History = []Transition{{At: now, To: StateSending}}
	if err := s.create(ctx, o); err != nil {
		return Order{}, err
	}
	s.setInflight(o.OrderNo, true)
	defer s.setInflight(o.OrderNo, false)
	res, err := s.platform.Pay(ctx, req)
	s.observe(err)
	return s.settlePay(ctx, o, res.OutID, err)
}

// settlePay journals the outcome of a pay request sent from Pay.
func (s *Service) settlePay(ctx context.Context, o Order, outID string, callErr error) (Order, error) {
	var refusal *OfflineRefusal
	if callErr != nil && isNotSent(callErr) && s.opts.Offline.Enabled {
		s.offlineMu.Lock()
		defer s.offlineMu.Unlock()
		refusal = s.offlineCheck(ctx, o)
	}
	saved, err := s.journal.UpdateOrder(ctx, o.OrderNo, func(o *Order) error {
		now := s.now()
		switch {
		case callErr == nil:
			o.OutID, o.Code, o.Message, o.LastError = outID, "", "", ""
			o.Outcome = Outcome{Kind: OutcomePaid}
			return o.To(StatePaid, now, "confirmed by the platform")
		case isNotSent(callErr) && s.opts.Offline.Enabled && refusal == nil:
			// Nothing left the process: the platform cannot have it, and
			// the reconciler sends it without asking first.
			o.LastError, o.NextAttempt, o.LastSent = callErr.Error(), now, time.Time{}
			o.Outcome = Outcome{Kind: OutcomeRecorded}
			return o.To(StateOfflineAccepted, now, "platform unreachable: accepted offline")
		case isNotSent(callErr), errors.Is(callErr, ErrTokenRateLimited):
			o.LastError = callErr.Error()
			note := "never reached the platform"
			o.Outcome = Outcome{Kind: OutcomeNotCharged}
			if refusal != nil {
				o.Code, o.Message = OfflineRefusedCode, refusal.Reason
				o.Outcome = Outcome{Kind: OutcomeRefusedOffline, Reason: refusal.Code}
				note += ": " + refusal.Reason
			}
			return o.To(StateVoided, now, note)
		case onecard.Declined(callErr):
			o.Code, o.Message, o.LastError = onecard.ErrorCode(callErr), callErr.Error(), callErr.Error()
			o.Outcome = Outcome{Kind: OutcomeDeclined, Reason: o.Code}
			return o.To(StateDeclined, now, "declined by the platform")
		default:
			o.LastError = callErr.Error()
			o.NextAttempt = s.after(o.LastSent, 0)
			o.Outcome = Outcome{Kind: OutcomeWillConfirm}
			return o.To(StateUnknown, now, "no answer: will be confirmed")
		}
	})
	derr := domainError(callErr)
	if err != nil {
		// The order stays "sending": after a restart the reconciler treats
		// it as an orphan and asks the platform. Never report success.
		return o, errors.Join(fmt.Errorf("recording the outcome of order %s: %w", o.OrderNo, err), derr, errOutcomeNotRecorded)
	}
	switch {
	case saved.State == StateOfflineAccepted:
		s.nudge()
		return saved, nil
	case saved.State == StateUnknown:
		s.nudge()
		if !errors.Is(derr, ErrOutcomeUnknown) {
			return saved, fmt.Errorf("%w: %w", ErrOutcomeUnknown, derr)
		}
	case saved.State == StateVoided && refusal != nil:
		return saved, errors.Join(refusal, derr)
	}
	return saved, derr
}

// day is the platform day (yyyyMMdd) of t.
func (s *Service) day(t time.Time) string { return t.In(s.opts.Location).Format("20060102") }

// errOutcomeNotRecorded marks a payment whose outcome could not be
// journalled: the caller must treat it as unknown.
var errOutcomeNotRecorded = errors.New("outcome not recorded: treat as unknown")

func (s *Service) setInflight(no string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.inflight[no] = true
	} else {
		delete(s.inflight, no)
	}
}

func (s *Service) isInflight(no string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight[no]
}

func (s *Service) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// after returns when an order last sent at sent, attempted attempts times,
// should next be looked at: not before the request timeout has passed since
// it was sent, and with exponential back-off and jitter.
func (s *Service) after(sent time.Time, attempts int) time.Time {
	r := s.opts.Reconcile
	d := backoff(r.Interval, r.MaxInterval, attempts)
	d = time.Duration(float64(d) * (0.5 + s.opts.Jitter()))
	next := s.now().Add(d)
	if earliest := sent.Add(r.RequestTimeout + time.Second); next.Before(earliest) {
		next = earliest
	}
	return next
}

// backoff is first doubled once per step, at most most.
func backoff(first, most time.Duration, steps int) time.Duration {
	d := first
	for i := 0; i < steps && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

func (s *Service) create(ctx context.Context, o Order) error {
	if err := s.journal.CreateOrder(ctx, o); err != nil {
		return fmt.Errorf("recording order %s before going on: %w", o.OrderNo, err)
	}
	return nil
}

// sendWindow is when a request leaving at sent is certainly over (the
// client's timeout, twice, and a margin): until then the reconciler leaves
// its order alone, so that it never takes a live request for an orphan.
func (s *Service) sendWindow(sent time.Time) time.Time {
	return sent.Add(2*s.opts.Reconcile.RequestTimeout + 5*time.Second)
}

// stampSent journals that an order's request is about to leave again,
// before it does.
func (s *Service) stampSent(ctx context.Context, no string) (Order, error) {
	return s.journal.UpdateOrder(ctx, no, func(o *Order) error {
		o.Attempts++
		o.LastSent = s.now()
		o.NextAttempt = s.sendWindow(o.LastSent)
		return nil
	})
}
