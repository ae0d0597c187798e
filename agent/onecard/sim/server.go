// Package sim is an in-process simulator of the Synjones one-card
// platform (API v2.42 as the project's spec notes read it), in the spirit
// of net/http/httptest: NewServer starts one on a loopback port,
// NewHandler returns one for a caller's own listener (cmd/onecard-sim).
//
// The simulator is deliberately stricter than the platforms in the field
// about everything the spec defines, so that a client bug shows up in
// tests rather than on a campus; about request fields the spec does not
// list it is as tolerant as those platforms, unless Options.Strict (see
// "Beyond the spec" below). Every request goes through the system layer
// first; a refusal there is an envelope with errcode ≠ 0 and no request
// field, signed like any reply:
//
//	non-POST (HTTP 405), query string in the URL, Content-Type other than
//	application/x-www-form-urlencoded (charset, if given, UTF-8), body
//	over 1 MiB, unparsable form, any of the nine fields access_token
//	app_key format method request sign sign_method timestamp v missing,
//	empty or repeated, any other field, a field over its spec 1.2.1
//	byte limit                                                    40001
//	format ≠ json                                                 40015
//	v ≠ 2.0                                                       40016
//	sign_method ≠ rsa                                             40003
//	app_key unknown                                               40002
//	timestamp not yyyy-MM-dd HH:mm:ss in Options.Location, or more
//	than 6 minutes off the simulator's clock                      40018
//	signature does not verify with Options.ClientKey              40004
//	method unknown, down.bill on the main path or another method
//	on the bill path                                              40012
//	access_token: the token method takes 128 '0's or any token it
//	issued; other methods need the current, unexpired token       40017
//	request not base64 / 3DES / UTF-8 JSON with exactly the
//	method's one top-level key holding an object                  40015
//
// Then the business layer answers errcode 0 and a reply whose retcode says
// what happened. Its own strictness: every field of the method's object
// that the spec table lists must be a JSON string (pay.query: pay_queries
// an array of 1 to 50 objects of strings), at most its byte length, free
// of control characters, non-empty when the table says 不可空; tranamt has
// 0–2 decimals and is at least 0.01 (money.ParseYuan); termid is 1–9999
// in canonical digits; idtype, get_merge, bill_type, crypt_type and
// bill_date are checked against their value sets. A violation answers
// retcode RetcodeBadField ("40015") with the field named in errmsg, and
// changes nothing.
//
// Beyond the spec. Clients written for newer platforms send fields v2.42
// does not list, and a platform in the field answers or ignores them
// rather than refusing the call (spec notes, "What the platform may not do
// for you"); a simulator that refused them would be useless to such a
// client. So by default the simulator accepts the four query.card
// extensions a public one-card SDK sends, each a JSON string "0" or "1"
// (another value answers 40015, as get_merge does), and adds to every card
// of the reply, as strings like the spec's own card fields:
//
//	get_idinfo   sex ("1" male, "2" female), deptcode, deptname, pidcode,
//	             pidname (kind of identity: 本科生, 教职工…), from the
//	             Card's fields of those names ("" where unset)
//	get_accinfo  accinfo, a list with one object per account of the card;
//	             the simulator keeps the card account only, so one item:
//	             {"type": "###", "name": "卡账户", "balance": db_balance
//	             in fen, "autotrans_limite": "0", "autotrans_amt": "0",
//	             "autotrans_flag": "0"}
//	getschcode   schcode, the accounting unit (Card.SchCode, default "0001")
//	getcardid    cardid, the physical card number (Card.CardID)
//
// Any other field a method does not have, in the request object or in a
// pay.query item, is ignored and named in the log line of the request
// (Options.Logf). The envelope's form fields stay as strict as above in
// either mode: spec 1.2.1 fixes the nine, and the public clients send
// exactly those.
// Options.Strict turns the tolerance off: every field v2.42 does not
// list, the extensions included, answers RetcodeBadField "unknown field",
// which is what a conformance test of a client wants (onecardtest's
// NewTestPair runs the project's own client's tests that way).
//
// The business rules and their retcodes are those of the spec notes: 60003
// unknown account or acctype other than "###", 60007 lost, 60013 frozen,
// 60010 insufficient balance, 60024 no such record, 60045 order_no reused
// (order numbers are unique for ever across pays and refunds), 60058
// (onecard.RetcodeRefundTooLarge) refund beyond the payment, 60066 token
// call within Options.TokenMinInterval of the previous token call (refused
// calls count: the floor is measured from the last call, not the last
// success). A pay or refund that passes the field checks and reaches the
// ledger is recorded even when declined (status 77, in the ALL bill) and
// burns its order_no; a duplicate is never recorded twice.
//
// Choices where the spec is silent: a refund must name a successful payment
// of the same account and mercacc (else 60024) and may go to a lost or
// frozen card; a wrong query.card pwd answers 60003 like an unknown
// identity (Options.WrongPasswordRetcode chooses another retcode), with no
// card in the reply whatever the retcode (Stats.PasswordChecks and
// PasswordFailures count them); pay.query answers every item with retcode
// "0" and puts the verdict in order_status (78 for an unknown order_no or one of another
// account or acctype), and answers a refund's own order_no too (60, or 77
// when declined), so that an uncertain refund can be settled; orders
// younger than ProcessingFor report 20. The bill lists a payment's row with
// status 60 even after it was refunded; each refund has its own 02 row.
//
// Field variations. The spec notes list things a real platform may or may
// not do for the terminal. By default the simulator takes the side that
// protects it (refunds capped with 60058, pay.query answering refunds,
// every request processed at once, a reused order_no answered 60045);
// these Options turn each off, so that a terminal can be tested against a
// platform that protects nothing. RefundsUncapped accepts a refund beyond
// what is left of the payment (the balance is credited, the payment's
// Refunded may exceed its Amount, it reads 80 once Refunded ≥ Amount;
// Stats.OverRefunds counts them). QueryForgetsRefunds makes pay.query know
// payments only: a refund's own order_no answers 78, so its outcome shows
// only as a duplicate on a resend or in the bill. Late processing holds a
// request after the system layer passed it, closes the connection without
// an answer and runs the business part later, on the platform's clock of
// that moment, so that a pay.query can overtake it: the FaultLate fault,
// or Options.Hold for a seeded share of pays and refunds; ReleaseHeld runs
// every held request at once and Close drops those still held.
// DuplicateReply chooses the answer to a reused order_no: 60045 (the
// default), 60070 (onecard.RetcodeOrderExists), or DuplicateReplay, which
// answers a resend of the same request (same kind, account, acctype,
// mercacc, amount and, for a refund, refund_order_no) with the recorded
// outcome again, out_id included, as an idempotent platform would, and
// anything else with 60045.
//
// Faults (InjectFault) make the transport misbehave on purpose, and the
// admin endpoints under /_sim/ (see ServeHTTP) drive a running simulator.
package sim

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	// The platform's zone must load where the machine has no zoneinfo.
	_ "time/tzdata"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// BillPath is where down.bill is served, as the spec fixes it.
const BillPath = "/onecard/uap/downbill.do"

// AdminPrefix is the path prefix of the admin endpoints.
const AdminPrefix = "/_sim/"

// maxRequestBytes bounds a request body; a real request is about 1 KiB.
const maxRequestBytes = 1 << 20

// Options configure a Server. AppKey, AppSecret and ClientKey are required.
type Options struct {
	// AppKey is the one app key the platform knows.
	AppKey string
	// AppSecret is the base64 of the 24-byte 3DES key.
	AppSecret string
	// ClientKey verifies request signatures.
	ClientKey *rsa.PublicKey
	// PlatformKey signs replies; nil sends unsigned replies.
	PlatformKey *rsa.PrivateKey
	// Location is the platform's zone: timestamps and bill dates are read
	// and written in it. Default Asia/Shanghai.
	Location *time.Location
	// Now is the platform's clock before the clock offset (SetClockOffset)
	// is added. Default time.Now.
	Now func() time.Time
	// TokenTTL is how long an access token lives; default 2h.
	TokenTTL time.Duration
	// TokenMinInterval is the least time between two token calls; default
	// 2m, negative for none.
	TokenMinInterval time.Duration
	// Cards seeds the ledger; nil uses DemoCards(). The slice is copied.
	Cards []Card
	// MainPath is the path of every method but down.bill; default "/tsm".
	MainPath string
	// BaseURL is the externally visible origin ("http://127.0.0.1:8090")
	// that URL and BillURL report for a Server from NewHandler; NewServer
	// sets it itself.
	BaseURL string
	// ProcessingFor makes pay.query report orders younger than this as 20
	// (processing); SetProcessingFor changes it at run time.
	ProcessingFor time.Duration
	// RefundsUncapped accepts a refund beyond what is left of the
	// original payment instead of answering 60058.
	RefundsUncapped bool
	// QueryForgetsRefunds makes pay.query answer 78 (no such order) for a
	// refund's own order_no, as if it knew payments only.
	QueryForgetsRefunds bool
	// Hold processes a seeded share of pay and refund requests late; the
	// zero value holds none.
	Hold HoldPolicy
	// DuplicateReply is the answer to a reused order_no: "" or "60045"
	// (onecard.RetcodeDuplicateOrder), "60070" (onecard.RetcodeOrderExists)
	// or DuplicateReplay.
	DuplicateReply string
	// Strict refuses every request field v2.42 does not list, the
	// query.card extensions included, with retcode RetcodeBadField
	// ("unknown field"), so that a conformance test of a client sees a
	// stray field. Off (the default), the simulator answers the
	// extensions and ignores any other unknown field, naming it in the
	// log, as the platforms in the field do (package documentation,
	// "Beyond the spec").
	Strict bool
	// WrongPasswordRetcode is the retcode of a query.card whose pwd is not
	// the card's password: "" is onecard.RetcodeAccountNotFound (60003),
	// the same answer as an unknown identity. The spec names no retcode
	// for it and platforms differ (spec notes, "What the platform may not
	// do for you"); ValidateRetcode says which values are allowed.
	WrongPasswordRetcode string
	// Logf, when set, receives one line per request. It never carries a
	// secret, a token or a full account or card number.
	Logf func(format string, args ...any)
}

// Server is a simulated platform. Its methods are safe for concurrent use.
type Server struct {
	opts     Options
	loc      *time.Location
	cipher   *onecard.Cipher
	mainPath string

	ts        *httptest.Server
	base      string
	done      chan struct{}
	closeOnce sync.Once

	clockOffset   atomic.Int64 // time.Duration
	processingFor atomic.Int64 // time.Duration

	mu     sync.Mutex
	cards  map[string]*Card
	order  []string // accounts in seeding order
	orders map[string]*Transaction
	txs    []*Transaction
	outSeq int64
	token  tokenState
	faults []*activeFault
	stats  Stats

	// Late processing (late.go).
	holdRand *mrand.Rand // nil when Options.Hold is off
	held     []*heldRequest
	closed   bool
	lateWG   sync.WaitGroup // timer callbacks that may still run
}

type tokenState struct {
	current  string
	expires  time.Time
	lastCall time.Time
	issued   map[string]bool
}

// NewServer starts a Server on a loopback port. Like httptest.NewServer it
// panics when it cannot: here also on invalid Options.
func NewServer(opts Options) *Server {
	s, err := NewHandler(opts)
	if err != nil {
		panic("sim: " + err.Error())
	}
	s.Start()
	return s
}

// NewHandler checks opts and returns an unstarted Server: serve it with
// s.ServeHTTP on a listener of your own, and call Close when done.
func NewHandler(opts Options) (*Server, error) {
	switch {
	case opts.AppKey == "":
		return nil, errors.New("AppKey is required")
	case len(opts.AppKey) > onecard.SystemFieldLimits["app_key"]:
		return nil, errors.New("AppKey is longer than 128 bytes")
	case opts.ClientKey == nil:
		return nil, errors.New("ClientKey is required: the simulator verifies every request")
	case opts.TokenTTL < 0:
		return nil, errors.New("TokenTTL is negative")
	case opts.ProcessingFor < 0:
		return nil, errors.New("ProcessingFor is negative")
	}
	if err := opts.Hold.Validate(); err != nil {
		return nil, fmt.Errorf("Hold: %w", err)
	}
	if err := ValidateDuplicateReply(opts.DuplicateReply); err != nil {
		return nil, fmt.Errorf("DuplicateReply: %w", err)
	}
	if opts.WrongPasswordRetcode != "" {
		if err := ValidateRetcode(opts.WrongPasswordRetcode); err != nil {
			return nil, fmt.Errorf("WrongPasswordRetcode: %w", err)
		}
	}
	c, err := onecard.NewCipher(opts.AppSecret)
	if err != nil {
		return nil, fmt.Errorf("AppSecret: %w", err)
	}
	if opts.Location == nil {
		if opts.Location, err = time.LoadLocation("Asia/Shanghai"); err != nil {
			return nil, fmt.Errorf("default location: %w", err)
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 2 * time.Hour
	}
	if opts.TokenTTL < time.Second {
		return nil, errors.New("TokenTTL is under a second; expires_in counts seconds")
	}
	if opts.TokenMinInterval == 0 {
		opts.TokenMinInterval = 2 * time.Minute
	}
	if opts.MainPath == "" {
		opts.MainPath = "/tsm"
	}
	if !strings.HasPrefix(opts.MainPath, "/") || opts.MainPath == BillPath || strings.HasPrefix(opts.MainPath, AdminPrefix) {
		return nil, fmt.Errorf("MainPath %q must start with / and differ from %s and %s…", opts.MainPath, BillPath, AdminPrefix)
	}
	cards := opts.Cards
	if cards == nil {
		cards = DemoCards()
	}
	s := &Server{
		opts:     opts,
		loc:      opts.Location,
		cipher:   c,
		mainPath: opts.MainPath,
		base:     strings.TrimRight(opts.BaseURL, "/"),
		done:     make(chan struct{}),
		cards:    make(map[string]*Card, len(cards)),
		orders:   make(map[string]*Transaction),
		token:    tokenState{issued: make(map[string]bool)},
		stats:    newStats(),
	}
	s.opts.Cards = nil // the ledger owns the cards from here on
	for i := range cards {
		cd := cards[i]
		if err := cd.check(); err != nil {
			return nil, fmt.Errorf("card %d (%s): %w", i+1, Mask(cd.Account), err)
		}
		if _, dup := s.cards[cd.Account]; dup {
			return nil, fmt.Errorf("card %d: account %s appears twice", i+1, Mask(cd.Account))
		}
		cd.fillDefaults()
		s.cards[cd.Account] = &cd
		s.order = append(s.order, cd.Account)
	}
	s.processingFor.Store(int64(opts.ProcessingFor))
	s.holdRand = opts.Hold.rand()
	return s, nil
}

// Start serves a Server made by NewHandler on a loopback listener of its
// own, as NewServer does; Close stops it.
func (s *Server) Start() {
	s.ts = httptest.NewServer(s)
	s.base = s.ts.URL
}

// URL returns the main URL: every method but down.bill goes there.
func (s *Server) URL() string { return s.base + s.mainPath }

// BillURL returns the URL of down.bill.
func (s *Server) BillURL() string { return s.base + BillPath }

// Location returns the platform's zone.
func (s *Server) Location() *time.Location { return s.loc }

// Now returns the simulator's clock: Options.Now plus the clock offset.
func (s *Server) Now() time.Time {
	return s.opts.Now().Add(time.Duration(s.clockOffset.Load()))
}

// SetClockOffset moves the simulator's clock by d relative to Options.Now,
// as a platform whose clock drifted: timestamps, token expiry and the
// times of new transactions all follow it.
func (s *Server) SetClockOffset(d time.Duration) { s.clockOffset.Store(int64(d)) }

// SetProcessingFor makes pay.query report orders younger than d as 20
// (processing); 0 turns that off.
func (s *Server) SetProcessingFor(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.processingFor.Store(int64(d))
}

// Close stops the server (when NewServer or NewTestPair started it),
// aborts delayed requests and drops held ones unprocessed; it returns once
// no timer callback of the server runs. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.dropHeld()
		close(s.done)
		if s.ts != nil {
			s.ts.Close()
		}
	})
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// ServeHTTP serves the platform: the main path (Options.MainPath), the
// bill path (BillPath), and the admin endpoints, which speak JSON:
//
//	GET    /_sim/faults      the active faults
//	POST   /_sim/faults      add a Fault, or a list of them, e.g.
//	                         {"kind":"delay","method":"synjones.onecard.gdccard.pay","times":1,"delay":"5s"}
//	DELETE /_sim/faults      clear every fault
//	GET    /_sim/clock       {"offset":"0s","now":"…"}
//	POST   /_sim/clock       {"offset":"5m"}: SetClockOffset
//	GET    /_sim/processing  {"for":"0s"}
//	POST   /_sim/processing  {"for":"30s"}: SetProcessingFor
//	GET    /_sim/ledger      transactions and card balances
//	GET    /_sim/stats       Stats
//	GET    /_sim/held        {"held":2}: requests held for late processing
//	POST   /_sim/held/release  ReleaseHeld: {"released":2,"held":0}
//
// POSTs to them must be Content-Type application/json, which a web page of
// another origin cannot send without the browser asking first. They are
// not authenticated: keep a simulator on loopback.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var bill bool
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, AdminPrefix):
		s.serveAdmin(w, r)
		return
	case p == s.mainPath:
	case p == BillPath:
		bill = true
	default:
		http.NotFound(w, r)
		return
	}
	// The Date header comes from the simulator's clock, offset included,
	// as a real platform's web server shares its host's clock: the
	// client's clock-offset reading then sees the offset a test set.
	w.Header().Set("Date", s.Now().UTC().Format(http.TimeFormat))
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.count("", "40001", "")
		s.writeReply(w, reply{status: http.StatusMethodNotAllowed, errcode: "40001"}, false)
		s.logf("onecard-sim: %s %s refused: errcode 40001 (not POST)", r.Method, r.URL.Path)
		return
	}
	body, readErr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	form := parseForm(r, body, readErr)
	method := form.method()

	f := s.takeFault(method)
	if f != nil {
		switch {
		case f.Kind == FaultDropRequest:
			s.count(method, "", "")
			s.logf("onecard-sim: %s fault %s", shortMethod(method), f.Kind)
			hijackClose(w)
			return
		case f.Kind == FaultDelay:
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				s.count(method, "", "")
				s.logf("onecard-sim: %s fault delay: client went away, not processed", shortMethod(method))
				return
			case <-s.done:
				// The platform went down with the request in hand.
				t.Stop()
				s.count(method, "", "")
				hijackClose(w)
				return
			}
		case !f.AfterCommit && (f.Kind == FaultHTTP500 || f.Kind == FaultGarbage || f.Kind == FaultText):
			s.count(method, "", "")
			s.logf("onecard-sim: %s fault %s, not processed", shortMethod(method), f.Kind)
			writeFaultBody(w, f.Kind)
			return
		}
	}

	rep, held := s.handle(form, bill, f)
	if held {
		// The request waits in the platform's queue; the client hears
		// nothing and gives up.
		s.count(method, "", "")
		s.logf("onecard-sim: %s held for late processing, connection closed without an answer", shortMethod(method))
		hijackClose(w)
		return
	}
	s.count(method, rep.errcode, rep.retcode)
	fault := ""
	if f != nil {
		fault = " fault " + string(f.Kind)
	}
	s.logf("onecard-sim: %s errcode %s retcode %s%s%s (%s)", shortMethod(method), rep.errcode, orDash(rep.retcode), rep.note, fault, time.Since(start).Round(time.Microsecond))
	if f != nil {
		switch f.Kind {
		case FaultDropReply:
			hijackClose(w)
			return
		case FaultHTTP500, FaultGarbage, FaultText:
			writeFaultBody(w, f.Kind)
			return
		case FaultBadSignature:
			s.writeReply(w, rep, true)
			return
		}
	}
	s.writeReply(w, rep, false)
}

func shortMethod(m string) string {
	if m == "" {
		return "(no method)"
	}
	if _, ok := onecard.RequestKey(m); !ok {
		return "(unknown method)"
	}
	return m
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// reply is the outcome of one API request before it is written.
type reply struct {
	status  int    // HTTP status; 0 means 200
	errcode string // system layer
	retcode string // business layer, for the log and stats
	inner   []byte // plain reply JSON when errcode is 0
	raw     []byte // a bill: sent as is, without envelope
	note    string // for the log
}

// writeReply encodes and writes rep; badSig corrupts the signature of an
// envelope (a bill carries none and is sent unchanged).
func (s *Server) writeReply(w http.ResponseWriter, rep reply, badSig bool) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	if rep.raw != nil {
		w.WriteHeader(status)
		_, _ = w.Write(rep.raw)
		return
	}
	var request string
	with := rep.errcode == onecard.ErrcodeOK
	if with {
		request = s.cipher.Encrypt(rep.inner)
	}
	body, err := s.encodeEnvelope(rep.errcode, request, with, badSig)
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newStats() Stats {
	return Stats{
		Requests:       map[string]int{},
		SystemErrors:   map[string]int{},
		BusinessErrors: map[string]int{},
		FaultsFired:    map[FaultKind]int{},
	}
}

// count records a request in the stats. Unknown method names are counted
// under "other" so that junk cannot grow the map.
func (s *Server) count(method, errcode, retcode string) {
	if _, ok := onecard.RequestKey(method); !ok {
		method = "other"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests[method]++
	s.countCodes(errcode, retcode)
}

// countCodes records a refusal's errcode or retcode; s.mu is held.
func (s *Server) countCodes(errcode, retcode string) {
	if errcode != "" && errcode != onecard.ErrcodeOK {
		s.stats.SystemErrors[errcode]++
	}
	if retcode != "" && retcode != onecard.RetcodeOK {
		s.stats.BusinessErrors[retcode]++
	}
}

// fen formats an amount in fen as the wire's whole-number string.
func fen(f money.Fen) string { return fmt.Sprintf("%d", int64(f)) }
