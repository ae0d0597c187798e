package onecard

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// AccessToken is the token method's reply.
type AccessToken struct {
	// Value is secret: never log or print it.
	Value     string
	ExpiresIn time.Duration
}

// ID types accepted by query.card.
var IDTypes = []string{"sno", "id", "phone", "acc", "cardid", "barcode"}

// CardQuery asks for the cards of one identity.
type CardQuery struct {
	IDType   string
	ID       string
	GetMerge bool
	// Password is the card's query password, when the deployment wants it:
	// sent as pwd, never in an error, and printed by fmt (Format) as
	// [redacted].
	Password string
}

// Format prints the query as fmt would, with a non-empty Password as
// [redacted], so that a debug dump (%v, %+v, %#v) does not reveal it.
func (q CardQuery) Format(f fmt.State, verb rune) {
	type fields CardQuery // without methods: no recursion
	p := fields(q)
	if p.Password != "" {
		p.Password = "[redacted]"
	}
	s := fmt.Sprintf(fmt.FormatString(f, verb), p)
	if verb == 'v' && f.Flag('#') {
		s = strings.Replace(s, "onecard.fields", "onecard.CardQuery", 1)
	}
	_, _ = io.WriteString(f, s)
}

// Card is one card of an identity, as query.card returns it.
type Card struct {
	Account        string
	Name           string
	UnsettleAmount money.Fen
	Balance        money.Fen
	// Lost and Frozen are true for any flag value but "0": a value the
	// terminal does not know must not let a payment through.
	Lost           bool
	Frozen         bool
	HasIdentity    bool
	BarcodeEnabled bool
	CreateDate     string
	ExpDate        string
	CardType       string
	CardName       string
	BankAcc        string
	SNo            string
	Phone          string
	CertType       string
	Cert           string
	AutoTransLimit money.Fen
	AutoTransAmt   money.Fen
	AutoTransFlag  string
	MSCard         string
	SCardNum       string
	MergeFlag      string
}

// AccTypeCard is the acctype of the card account itself.
const AccTypeCard = "###"

// PayRequest is one gdccard.pay call.
type PayRequest struct {
	OrderNo string
	Account string
	AccType string
	MercAcc string
	Amount  money.Fen
	Remark  string
	Attach  string
	TermID  string
}

// PayResult is the platform's confirmation of a payment.
type PayResult struct {
	OrderNo string
	Account string
	AccType string
	MercAcc string
	Amount  money.Fen
	OutID   string
}

// RefundRequest is one gdccard.refund call. OrderNo is the refund's own new
// number; RefundOrderNo the original payment's.
type RefundRequest struct {
	OrderNo       string
	RefundOrderNo string
	Account       string
	AccType       string
	MercAcc       string
	Amount        money.Fen
	TermID        string
}

// RefundResult is the platform's confirmation of a refund.
type RefundResult struct {
	OrderNo       string
	RefundOrderNo string
	Account       string
	AccType       string
	MercAcc       string
	Amount        money.Fen
	OutID         string
}

// PayQuery names one order to look up with pay.query.
type PayQuery struct {
	Account string
	AccType string
	OrderNo string
}

// MaxPayQueries is the most orders one pay.query call may carry.
const MaxPayQueries = 50

// OrderStatus is pay.query's order_status.
type OrderStatus string

// Order statuses of pay.query.
const (
	StatusProcessing OrderStatus = "20"
	StatusPaid       OrderStatus = "60"
	StatusFailed     OrderStatus = "77"
	StatusNoOrder    OrderStatus = "78"
	StatusRefunded   OrderStatus = "80"
)

// String names the status for people.
func (s OrderStatus) String() string {
	switch s {
	case StatusProcessing:
		return "processing"
	case StatusPaid:
		return "paid"
	case StatusFailed:
		return "failed"
	case StatusNoOrder:
		return "no such order"
	case StatusRefunded:
		return "refunded"
	}
	return "status " + string(s)
}

// PayStatus is one order's answer from pay.query.
type PayStatus struct {
	Account string
	AccType string
	OrderNo string
	Amount  money.Fen
	OutID   string
	Status  OrderStatus
	Desc    string
	Retcode string
	Msg     string
}

// Bill types and the date layout of down.bill.
const (
	BillAll        = "ALL"
	BillSuccess    = "SUCCESS"
	BillDateLayout = "20060102"
)

// BillRequest asks for one day's bill.
type BillRequest struct {
	Date string // yyyyMMdd
	Type string // BillAll or BillSuccess
	// Encrypted asks for crypt_type=1 (DES-ECB over the wire).
	Encrypted bool
}

// checkTermID checks termid as a string of digits in 1–9999 (empty allowed:
// the field may be empty per spec; the agent always sends its own).
func checkTermID(method, v string) error {
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 9999 || strconv.Itoa(n) != v {
		return &RequestError{Method: method, Field: "termid", Reason: fmt.Sprintf("%q is not a number from 1 to 9999", v)}
	}
	return nil
}

// checkLen refuses an over-long or missing field before it is sent.
func checkLen(method, field, v string, max int, required bool) error {
	if required && v == "" {
		return &RequestError{Method: method, Field: field, Reason: "must not be empty"}
	}
	if len(v) > max {
		return &RequestError{Method: method, Field: field, Reason: fmt.Sprintf("%d bytes, at most %d allowed", len(v), max)}
	}
	return nil
}

func checkAmount(method string, a money.Fen) error {
	if a < 1 {
		return &RequestError{Method: method, Field: "tranamt", Reason: fmt.Sprintf("%s fen: the minimum is 0.01 yuan", strconv.FormatInt(int64(a), 10))}
	}
	if a > money.MaxFen {
		return &RequestError{Method: method, Field: "tranamt", Reason: "too large"}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Validate checks the query as the platform would, before anything is sent.
func (q CardQuery) Validate() error {
	m := MethodQueryCard
	ok := false
	for _, t := range IDTypes {
		ok = ok || q.IDType == t
	}
	if !ok {
		return &RequestError{Method: m, Field: "idtype", Reason: fmt.Sprintf("%q is not one of %v", q.IDType, IDTypes)}
	}
	return firstErr(checkLen(m, "id", q.ID, 32, true), checkLen(m, "pwd", q.Password, 32, false))
}

// Validate checks the request as the platform would, before anything is sent.
func (p PayRequest) Validate() error {
	m := MethodPay
	return firstErr(
		checkLen(m, "order_no", p.OrderNo, 32, true),
		checkLen(m, "account", p.Account, 10, true),
		checkLen(m, "acctype", p.AccType, 3, true),
		checkLen(m, "mercacc", p.MercAcc, 10, true),
		checkLen(m, "remark", p.Remark, 128, false),
		checkLen(m, "attach", p.Attach, 128, false),
		checkTermID(m, p.TermID),
		checkAmount(m, p.Amount),
	)
}

// Validate checks the request as the platform would, before anything is sent.
func (r RefundRequest) Validate() error {
	m := MethodRefund
	return firstErr(
		checkLen(m, "order_no", r.OrderNo, 32, true),
		checkLen(m, "refund_order_no", r.RefundOrderNo, 32, true),
		checkLen(m, "account", r.Account, 10, true),
		checkLen(m, "acctype", r.AccType, 3, true),
		checkLen(m, "mercacc", r.MercAcc, 10, true),
		checkTermID(m, r.TermID),
		checkAmount(m, r.Amount),
	)
}

// validatePayQueries checks a pay.query batch before anything is sent.
func validatePayQueries(qs []PayQuery) error {
	m := MethodPayQuery
	if len(qs) == 0 || len(qs) > MaxPayQueries {
		return &RequestError{Method: m, Field: "pay_queries", Reason: fmt.Sprintf("%d orders, want 1 to %d", len(qs), MaxPayQueries)}
	}
	seen := make(map[string]bool, len(qs))
	for _, q := range qs {
		if err := firstErr(
			checkLen(m, "account", q.Account, 10, true),
			checkLen(m, "acctype", q.AccType, 3, true),
			checkLen(m, "order_no", q.OrderNo, 32, true),
		); err != nil {
			return err
		}
		// Reply items are matched to queries by order_no, so a number asked
		// twice (say under two accounts) could take the other's answer.
		if seen[q.OrderNo] {
			return &RequestError{Method: m, Field: "order_no", Reason: fmt.Sprintf("%q appears twice in one batch", q.OrderNo)}
		}
		seen[q.OrderNo] = true
	}
	return nil
}

// Validate checks the request as the platform would, before anything is sent.
func (b BillRequest) Validate() error {
	m := MethodDownBill
	if _, err := time.Parse(BillDateLayout, b.Date); err != nil || len(b.Date) != 8 {
		return &RequestError{Method: m, Field: "bill_date", Reason: fmt.Sprintf("%q is not a date yyyyMMdd", b.Date)}
	}
	if b.Type != BillAll && b.Type != BillSuccess {
		return &RequestError{Method: m, Field: "bill_type", Reason: fmt.Sprintf("%q is neither ALL nor SUCCESS", b.Type)}
	}
	return nil
}
