package offline

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	bolt "go.etcd.io/bbolt"
)

// The records below are the file format. Their JSON names must not change
// when a Go field is renamed, and adding a field bumps SchemaVersion:
// decoding refuses unknown fields, so that an older binary cannot silently
// drop what a newer one wrote. Amounts are integer fen, times UTC.

// orderRecord is the on-disk form of agent.Order. Fields after Message are
// new in schema 2, the five after History in schema 3, the last three
// (outcome, outcome_reason, day) in schema 4; an older record is a valid
// newer record without them (only a schema-1 state name may need the
// migration's rename), whose outcome is read from its history.
type orderRecord struct {
	OrderNo       string             `json:"order_no"`
	Kind          string             `json:"kind"`
	RefundOf      string             `json:"refund_of,omitempty"`
	Account       string             `json:"account"`
	AccType       string             `json:"acctype"`
	MercAcc       string             `json:"mercacc"`
	TermID        string             `json:"termid"`
	AmountFen     int64              `json:"amount_fen"`
	Created       time.Time          `json:"created"`
	Updated       time.Time          `json:"updated,omitzero"`
	State         string             `json:"state"`
	OutID         string             `json:"out_id,omitempty"`
	Code          string             `json:"code,omitempty"`
	Message       string             `json:"message,omitempty"`
	Attempts      int                `json:"attempts,omitempty"`
	LastError     string             `json:"last_error,omitempty"`
	LastSent      time.Time          `json:"last_sent,omitzero"`
	NextAttempt   time.Time          `json:"next_attempt,omitzero"`
	RefundedFen   int64              `json:"refunded_fen,omitempty"`
	RefundOrderNo string             `json:"refund_order_no,omitempty"`
	History       []transitionRecord `json:"history,omitempty"`
	// New in schema 3.
	PendingRefunds []string      `json:"pending_refunds,omitempty"`
	RefundsStarted int           `json:"refunds_started,omitempty"`
	PlatformHas    bool          `json:"platform_has,omitempty"`
	OnlineAge      time.Duration `json:"online_age_ns,omitempty"`
	LastAnswer     time.Time     `json:"last_answer,omitzero"`
	// New in schema 4. Outcome is written for every order of schema 4,
	// "" for none: its absence marks a record written before outcomes
	// were journalled, whose outcome is read from its history instead
	// (legacyOutcome).
	Outcome       *string `json:"outcome,omitempty"`
	OutcomeReason string  `json:"outcome_reason,omitempty"`
	Day           string  `json:"day,omitempty"`
}

// transitionRecord is one entry of an order's history.
type transitionRecord struct {
	At   time.Time `json:"at"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Note string    `json:"note,omitempty"`
}

// maxOrderNoLen keeps the index keys (8 bytes + order_no) within bbolt's
// key limit. The wire limit (32 bytes) is the protocol's business.
const maxOrderNoLen = bolt.MaxKeySize - 8

// inNanoRange reports whether t can be expressed as int64 unix nanoseconds,
// the form the index keys use.
func inNanoRange(t time.Time) bool {
	return !t.Before(time.Unix(0, math.MinInt64)) && !t.After(time.Unix(0, math.MaxInt64))
}

func validateOrder(o agent.Order) error {
	switch {
	case o.OrderNo == "":
		return errors.New("empty order number")
	case len(o.OrderNo) > maxOrderNoLen:
		return fmt.Errorf("order number of %d bytes is too long", len(o.OrderNo))
	case o.Kind != agent.KindPay && o.Kind != agent.KindRefund:
		return fmt.Errorf("unknown order kind %q", o.Kind)
	case o.Kind == agent.KindRefund && o.RefundOf == "":
		return errors.New("refund without the original order number")
	case o.Kind == agent.KindPay && o.RefundOf != "":
		return errors.New("payment with a refund_of order number")
	case o.State == "":
		return errors.New("empty order state")
	case !o.State.Known():
		return fmt.Errorf("unknown order state %q", o.State)
	case o.Created.IsZero():
		return errors.New("no creation time")
	case !inNanoRange(o.Created):
		return fmt.Errorf("creation time %s out of range", o.Created.UTC().Format(time.RFC3339))
	case o.Attempts < 0:
		return fmt.Errorf("negative attempt count %d", o.Attempts)
	case o.Refunded < 0:
		return fmt.Errorf("negative refunded amount %d fen", o.Refunded)
	case o.Kind == agent.KindPay && o.Refunded > o.Amount:
		// The terminal never sends more than is left, and counts only
		// refunds it sent: more would be a refund paid out twice.
		return fmt.Errorf("refunded %d fen of a %d fen payment", o.Refunded, o.Amount)
	case o.RefundsStarted < 0:
		return fmt.Errorf("negative refund count %d", o.RefundsStarted)
	case o.OnlineAge < 0:
		return fmt.Errorf("negative online age %s", o.OnlineAge)
	case o.Kind == agent.KindRefund && (len(o.PendingRefunds) > 0 || o.RefundsStarted > 0):
		return errors.New("a refund order with refunds of its own")
	case o.Outcome.Kind != "" && !o.Outcome.Kind.Known():
		return fmt.Errorf("unknown outcome %q", o.Outcome.Kind)
	case o.Outcome.Kind == "" && o.Outcome.Reason != "":
		return fmt.Errorf("an outcome reason (%q) without an outcome", o.Outcome.Reason)
	case o.Kind == agent.KindRefund && o.Outcome.Kind != "":
		// What a customer is told is a payment's; a refund has no screen.
		return fmt.Errorf("a refund order with an outcome (%s)", o.Outcome.Kind)
	}
	if o.Day != "" {
		if err := validDay(o.Day); err != nil {
			return fmt.Errorf("platform day: %w", err)
		}
	}
	for i, h := range o.History {
		// From may be empty: a history may start with the order's creation.
		if (h.From != "" && !h.From.Known()) || !h.To.Known() {
			return fmt.Errorf("history entry %d: unknown state in %q → %q", i, h.From, h.To)
		}
	}
	return nil
}

// encodeOrder validates o and returns its record. Times are stored in UTC:
// the zone is not part of an order, and UTC keeps records comparable.
func encodeOrder(o agent.Order) ([]byte, error) {
	if err := validateOrder(o); err != nil {
		return nil, fmt.Errorf("order %q: %w", o.OrderNo, err)
	}
	rec := orderRecord{
		OrderNo:        o.OrderNo,
		Kind:           string(o.Kind),
		RefundOf:       o.RefundOf,
		Account:        o.Account,
		AccType:        o.AccType,
		MercAcc:        o.MercAcc,
		TermID:         o.TermID,
		AmountFen:      int64(o.Amount),
		Created:        o.Created.UTC(),
		Updated:        o.Updated.UTC(),
		State:          string(o.State),
		OutID:          o.OutID,
		Code:           o.Code,
		Message:        o.Message,
		Attempts:       o.Attempts,
		LastError:      o.LastError,
		LastSent:       o.LastSent.UTC(),
		NextAttempt:    o.NextAttempt.UTC(),
		RefundedFen:    int64(o.Refunded),
		RefundOrderNo:  o.RefundOrderNo,
		PendingRefunds: slices.Clone(o.PendingRefunds),
		RefundsStarted: o.RefundsStarted,
		PlatformHas:    o.PlatformHas,
		OnlineAge:      o.OnlineAge,
		LastAnswer:     o.LastAnswer.UTC(),
		Outcome:        ptr(string(o.Outcome.Kind)),
		OutcomeReason:  o.Outcome.Reason,
		Day:            o.Day,
	}
	for _, h := range o.History {
		rec.History = append(rec.History, transitionRecord{
			At: h.At.UTC(), From: string(h.From), To: string(h.To), Note: h.Note,
		})
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("order %q: %w", o.OrderNo, err)
	}
	return b, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields and trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the record")
	}
	return nil
}

// parseOrder decodes a record without validating it, for the migration,
// which must repair a record before it is valid.
func parseOrder(b []byte) (agent.Order, error) {
	var rec orderRecord
	if err := decodeStrict(b, &rec); err != nil {
		return agent.Order{}, fmt.Errorf("%w: order: %w", ErrBadRecord, err)
	}
	o := agent.Order{
		OrderNo:        rec.OrderNo,
		Kind:           agent.OrderKind(rec.Kind),
		RefundOf:       rec.RefundOf,
		Account:        rec.Account,
		AccType:        rec.AccType,
		MercAcc:        rec.MercAcc,
		TermID:         rec.TermID,
		Amount:         money.Fen(rec.AmountFen),
		Created:        rec.Created.UTC(),
		Updated:        rec.Updated.UTC(),
		State:          agent.OrderState(rec.State),
		OutID:          rec.OutID,
		Code:           rec.Code,
		Message:        rec.Message,
		Attempts:       rec.Attempts,
		LastError:      rec.LastError,
		LastSent:       rec.LastSent.UTC(),
		NextAttempt:    rec.NextAttempt.UTC(),
		Refunded:       money.Fen(rec.RefundedFen),
		RefundOrderNo:  rec.RefundOrderNo,
		RefundsStarted: rec.RefundsStarted,
		PlatformHas:    rec.PlatformHas,
		OnlineAge:      rec.OnlineAge,
		LastAnswer:     rec.LastAnswer.UTC(),
		Day:            rec.Day,
	}
	if rec.Outcome != nil {
		o.Outcome = agent.Outcome{Kind: agent.OutcomeKind(*rec.Outcome), Reason: rec.OutcomeReason}
	}
	// An empty list stays nil (the encoder omits it), so that a record
	// read, written and read again compares equal.
	if len(rec.PendingRefunds) > 0 {
		o.PendingRefunds = slices.Clip(rec.PendingRefunds)
	}
	for _, h := range rec.History {
		o.History = append(o.History, agent.Transition{
			At: h.At.UTC(), From: agent.OrderState(h.From), To: agent.OrderState(h.To), Note: h.Note,
		})
	}
	if rec.Outcome == nil {
		if rec.OutcomeReason != "" {
			return agent.Order{}, fmt.Errorf("%w: order %q: an outcome reason (%q) without an outcome", ErrBadRecord, rec.OrderNo, rec.OutcomeReason)
		}
		o.Outcome = legacyOutcome(o)
	}
	return o, nil
}

// legacyOutcome is what the customer of an order written before schema 4
// was told, read from its history (agent.OutcomeFromHistory) each time the
// record is read, rather than written into every record by the upgrade: a
// rewrite of a year's journal in the upgrade's one transaction would hold
// every page in memory until it commits (measured: 540 MB for 200,000
// orders), more than a kiosk board may have. The next write of the order
// stores it.
func legacyOutcome(o agent.Order) agent.Outcome {
	if o.Kind != agent.KindPay {
		return agent.Outcome{}
	}
	return agent.OutcomeFromHistory(o)
}

func ptr[T any](v T) *T { return &v }

// decodeOrder reads a stored order record. It never panics and wraps
// ErrBadRecord for anything but one well-formed, valid record.
func decodeOrder(b []byte) (agent.Order, error) {
	o, err := parseOrder(b)
	if err != nil {
		return agent.Order{}, err
	}
	if err := validateOrder(o); err != nil {
		return agent.Order{}, fmt.Errorf("%w: order %q: %w", ErrBadRecord, o.OrderNo, err)
	}
	return o, nil
}

// timeKey is the 8-byte form of an instant used by the index keys: unix
// nanoseconds with the sign bit flipped, big-endian, so that byte order is
// time order even before 1970. Instants outside the int64 nanosecond range
// (the zero time among them) are clamped to its ends: a zero NextAttempt
// sorts first, i.e. "due at once".
func timeKey(t time.Time) [8]byte {
	var n int64
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		n = math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(n)^(1<<63))
	return k
}

// createdKey is the orders_by_created key: timeKey(created) + order_no.
func createdKey(created time.Time, orderNo string) []byte {
	k := timeKey(created)
	return append(k[:], orderNo...)
}

// unfinishedKey is the unfinished key: timeKey(next attempt) + order_no.
func unfinishedKey(next time.Time, orderNo string) []byte {
	k := timeKey(next)
	return append(k[:], orderNo...)
}

// cardKey is the cards key. Only a hash of the id is stored, so that the
// file does not list the card numbers that were used at this kiosk.
func cardKey(idType, id string) []byte {
	sum := sha256.Sum256([]byte(idType + "\x00" + id))
	return sum[:]
}

// dayLayout is the platform's yyyyMMdd day format.
const dayLayout = "20060102"

// validDay checks a yyyyMMdd day.
func validDay(day string) error {
	if len(day) != len(dayLayout) {
		return fmt.Errorf("day %q is not yyyyMMdd", day)
	}
	if _, err := time.Parse(dayLayout, day); err != nil {
		return fmt.Errorf("day %q is not yyyyMMdd", day)
	}
	return nil
}

// offlineDayKey is the offline_day key: the day (8 bytes) + account.
func offlineDayKey(day, account string) []byte {
	return append([]byte(day), account...)
}

// tokenRecord is the on-disk form of agent.Token.
type tokenRecord struct {
	Value    string    `json:"value"`
	Expires  time.Time `json:"expires,omitzero"`
	LastCall time.Time `json:"last_call,omitzero"`
}

func encodeToken(t agent.Token) ([]byte, error) {
	rec := tokenRecord{Value: t.Value, Expires: t.Expires.UTC(), LastCall: t.LastCall.UTC()}
	b, err := json.Marshal(rec)
	if err != nil {
		// Only a time outside years 0-9999 gets here; never echo the value.
		return nil, errors.New("token times out of range")
	}
	return b, nil
}

func decodeToken(b []byte) (agent.Token, error) {
	var rec tokenRecord
	if err := decodeStrict(b, &rec); err != nil {
		// json errors can quote the input; the input holds the secret.
		return agent.Token{}, fmt.Errorf("%w: token record is not one valid JSON object", ErrBadRecord)
	}
	return agent.Token{Value: rec.Value, Expires: rec.Expires.UTC(), LastCall: rec.LastCall.UTC()}, nil
}

// cardRecord is the on-disk form of agent.CachedCard.
type cardRecord struct {
	Account    string    `json:"account"`
	AccType    string    `json:"acctype"`
	MaskedName string    `json:"masked_name,omitempty"`
	Lost       bool      `json:"lost,omitempty"`
	Frozen     bool      `json:"frozen,omitempty"`
	BalanceFen int64     `json:"balance_fen"`
	SeenAt     time.Time `json:"seen_at"`
}

func validateCard(c agent.CachedCard) error {
	if c.Account == "" {
		return errors.New("cached card without an account")
	}
	return nil
}

func encodeCard(c agent.CachedCard) ([]byte, error) {
	if err := validateCard(c); err != nil {
		return nil, err
	}
	b, err := json.Marshal(cardRecord{
		Account: c.Account, AccType: c.AccType, MaskedName: c.MaskedName,
		Lost: c.Lost, Frozen: c.Frozen, BalanceFen: int64(c.Balance), SeenAt: c.SeenAt.UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("cached card of account %q: %w", c.Account, err)
	}
	return b, nil
}

// decodeCard reads a cached card record; it never panics and wraps
// ErrBadRecord for anything but one valid record.
func decodeCard(b []byte) (agent.CachedCard, error) {
	var rec cardRecord
	if err := decodeStrict(b, &rec); err != nil {
		return agent.CachedCard{}, fmt.Errorf("%w: cached card: %w", ErrBadRecord, err)
	}
	c := agent.CachedCard{
		Account: rec.Account, AccType: rec.AccType, MaskedName: rec.MaskedName,
		Lost: rec.Lost, Frozen: rec.Frozen, Balance: money.Fen(rec.BalanceFen), SeenAt: rec.SeenAt.UTC(),
	}
	if err := validateCard(c); err != nil {
		return agent.CachedCard{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return c, nil
}

// billReportRecord is the on-disk form of agent.BillReport.
type billReportRecord struct {
	Date         string           `json:"date"`
	Created      time.Time        `json:"created"`
	Counts       map[string]int   `json:"counts,omitempty"`
	Lines        []billLineRecord `json:"lines,omitempty"`
	BillCount    int              `json:"bill_count"`
	BillTotalFen int64            `json:"bill_total_fen"`
	// New in schema 3: the day's settlement.
	State         string `json:"state,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Attempts      int    `json:"attempts,omitempty"`
	JournalNetFen int64  `json:"journal_net_fen,omitempty"`
	BillNetFen    int64  `json:"bill_net_fen,omitempty"`
}

// billLineRecord is the on-disk form of agent.BillLine.
type billLineRecord struct {
	OrderNo          string `json:"order_no"`
	Match            string `json:"match"`
	JournalState     string `json:"journal_state,omitempty"`
	JournalAmountFen int64  `json:"journal_amount_fen,omitempty"`
	BillType         string `json:"bill_type,omitempty"`
	BillStatus       string `json:"bill_status,omitempty"`
	BillAmountFen    int64  `json:"bill_amount_fen,omitempty"`
	OutID            string `json:"out_id,omitempty"`
	Note             string `json:"note,omitempty"`
	// New in schema 3.
	Account  string    `json:"account,omitempty"`
	BillTime time.Time `json:"bill_time,omitzero"`
}

func validateBillReport(r agent.BillReport) error {
	if err := validDay(r.Date); err != nil {
		return fmt.Errorf("bill report: %w", err)
	}
	switch r.State {
	case agent.SettlementDone, agent.SettlementFailed:
	default:
		return fmt.Errorf("bill report of %s: settlement state %q", r.Date, r.State)
	}
	if r.Attempts < 0 {
		return fmt.Errorf("bill report of %s: negative attempt count", r.Date)
	}
	return nil
}

func encodeBillReport(r agent.BillReport) ([]byte, error) {
	if err := validateBillReport(r); err != nil {
		return nil, err
	}
	rec := billReportRecord{
		Date: r.Date, Created: r.Created.UTC(),
		BillCount: r.BillCount, BillTotalFen: int64(r.BillTotal),
		State: string(r.State), Reason: r.Reason, Attempts: r.Attempts,
		JournalNetFen: int64(r.JournalNet), BillNetFen: int64(r.BillNet),
	}
	if len(r.Counts) > 0 {
		rec.Counts = make(map[string]int, len(r.Counts))
		for k, v := range r.Counts {
			rec.Counts[string(k)] = v
		}
	}
	for _, l := range r.Lines {
		rec.Lines = append(rec.Lines, billLineRecord{
			OrderNo: l.OrderNo, Match: string(l.Match),
			JournalState: string(l.JournalState), JournalAmountFen: int64(l.JournalAmount),
			BillType: l.BillType, BillStatus: l.BillStatus, BillAmountFen: int64(l.BillAmount),
			OutID: l.OutID, Note: l.Note, Account: l.Account, BillTime: l.BillTime.UTC(),
		})
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("bill report of %s: %w", r.Date, err)
	}
	return b, nil
}

// decodeBillReport reads a bill report record; it never panics and wraps
// ErrBadRecord for anything but one valid record.
func decodeBillReport(b []byte) (agent.BillReport, error) {
	var rec billReportRecord
	if err := decodeStrict(b, &rec); err != nil {
		return agent.BillReport{}, fmt.Errorf("%w: bill report: %w", ErrBadRecord, err)
	}
	r := agent.BillReport{
		Date: rec.Date, Created: rec.Created.UTC(),
		BillCount: rec.BillCount, BillTotal: money.Fen(rec.BillTotalFen),
		State: agent.SettlementState(rec.State), Reason: rec.Reason, Attempts: rec.Attempts,
		JournalNet: money.Fen(rec.JournalNetFen), BillNet: money.Fen(rec.BillNetFen),
	}
	if r.State == "" {
		r.State = agent.SettlementDone // saved before settlement existed
	}
	// Empty collections stay nil so that a round trip compares equal.
	if len(rec.Counts) > 0 {
		r.Counts = make(map[agent.BillMatch]int, len(rec.Counts))
		for k, v := range rec.Counts {
			r.Counts[agent.BillMatch(k)] = v
		}
	}
	for _, l := range rec.Lines {
		r.Lines = append(r.Lines, agent.BillLine{
			OrderNo: l.OrderNo, Match: agent.BillMatch(l.Match),
			JournalState: agent.OrderState(l.JournalState), JournalAmount: money.Fen(l.JournalAmountFen),
			BillType: l.BillType, BillStatus: l.BillStatus, BillAmount: money.Fen(l.BillAmountFen),
			OutID: l.OutID, Note: l.Note, Account: l.Account, BillTime: l.BillTime.UTC(),
		})
	}
	if err := validateBillReport(r); err != nil {
		return agent.BillReport{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	return r, nil
}
