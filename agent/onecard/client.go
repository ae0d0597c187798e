// Package onecard is the client side of the Synjones campus one-card API
// v2.42: request encryption and signing, reply verification and decoding,
// and the six calls. It holds no token policy and no state beyond its
// configuration but the clock offset last seen in a reply's Date header;
// agent.Platform adds the token and order handling.
//
// Requests carry the spec's fields only, every value a string. Replies
// are read as platforms in the field write them: a field the spec does not
// list is ignored (in the envelope it stays in the signed text), and a
// JSON number may stand where the spec has a string. What decides money
// stays exact: the signature is checked, an amount is read from the
// number's own digits, never through a float (tranamt as yuan with at most
// two decimals, balances as whole fen), a retcode or order_status must be
// a whole number, and anything else is an undecodable reply whose outcome
// is unknown, never a success or a decline.
package onecard

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// Config is what a Client needs. URL, AppKey, Cipher, PrivateKey and
// Location are required.
type Config struct {
	// URL receives every method but the bill download.
	URL string
	// BillURL receives down.bill; empty derives <origin of URL>/onecard/uap/downbill.do.
	BillURL string
	AppKey  string
	Cipher  *Cipher
	// PrivateKey signs requests.
	PrivateKey *rsa.PrivateKey
	// PlatformKey verifies replies; nil turns verification off.
	PlatformKey *rsa.PublicKey
	// Location is the platform's time zone, for the timestamp field.
	Location *time.Location
	// HTTPClient is reused for every call; nil uses NewHTTPClient(10s, nil).
	HTTPClient *http.Client
	// Now defaults to time.Now.
	Now func() time.Time
	// Observe, if set, is called after every call with its method, how
	// long it took and its error (nil on success), for metrics and logs.
	// It runs on the caller's goroutine and must not block.
	Observe func(CallInfo)
}

// CallInfo describes one finished call for Config.Observe.
type CallInfo struct {
	// Method is the platform method, e.g. MethodPay.
	Method string
	// Duration is the wall time from the call's start to its return.
	Duration time.Duration
	// Err is the call's error, nil on success. ErrorCode(Err) gives the
	// platform's errcode or retcode, Declined and OutcomeUnknown its kind.
	Err error
}

// Client performs the calls. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	now  func() time.Time
	// offset is the latest clock sample taken from a reply's Date header.
	offset atomic.Pointer[clockSample]
}

// clockSample is one reading of the platform's clock against ours.
type clockSample struct {
	offset time.Duration // platform minus client
	at     time.Time     // the client's Now() at receipt
}

// ClockOffset returns the platform's clock minus the client's Now(), as
// read from the HTTP Date header of the latest reply that carried one, and
// when (client time) that reply arrived; ok is false before the first.
//
// The Date header is set by the platform's web server and has one second
// of resolution: this is the wall-clock offset to that server, good to
// about a second, not the clock the platform checks timestamps with (the
// two normally agree; a platform whose application clock differs from its
// web server's is not seen here).
func (c *Client) ClockOffset() (offset time.Duration, at time.Time, ok bool) {
	s := c.offset.Load()
	if s == nil {
		return 0, time.Time{}, false
	}
	return s.offset, s.at, true
}

// noteDate records the clock offset a reply's Date header shows; a missing
// or malformed header leaves the last sample in place.
func (c *Client) noteDate(h http.Header) {
	v := h.Get("Date")
	if v == "" {
		return
	}
	d, err := http.ParseTime(v)
	if err != nil {
		return
	}
	now := c.now()
	c.offset.Store(&clockSample{offset: d.Sub(now), at: now})
}

// maxReplyBytes bounds a reply body; a day's bill of a busy canteen is far
// below it.
const maxReplyBytes = 64 << 20

// NewHTTPClient returns the one HTTP client a terminal should use: bounded
// time for every phase, kept-alive connections, and an optional CA pool for
// a platform behind a private CA.
func NewHTTPClient(timeout time.Duration, roots *x509.CertPool) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	if roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// defaultBillURL derives the bill URL from the main URL's origin.
func defaultBillURL(mainURL string) (string, error) {
	u, err := url.Parse(mainURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("platform URL %q is not an absolute URL", mainURL)
	}
	return u.Scheme + "://" + u.Host + "/onecard/uap/downbill.do", nil
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.URL == "":
		return nil, errors.New("onecard: URL is required")
	case cfg.AppKey == "":
		return nil, errors.New("onecard: app key is required")
	case len(cfg.AppKey) > SystemFieldLimits["app_key"]:
		return nil, errors.New("onecard: app key is longer than 128 bytes")
	case cfg.Cipher == nil:
		return nil, errors.New("onecard: cipher (app secret) is required")
	case cfg.PrivateKey == nil:
		return nil, errors.New("onecard: private key is required")
	case cfg.Location == nil:
		return nil, errors.New("onecard: platform time zone is required")
	}
	if cfg.BillURL == "" {
		u, err := defaultBillURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("onecard: %w", err)
		}
		cfg.BillURL = u
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient, now: cfg.Now}
	if c.http == nil {
		c.http = NewHTTPClient(10*time.Second, nil)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// timestamp formats t as the platform expects it, in its time zone.
func (c *Client) timestamp(t time.Time) string { return t.In(c.cfg.Location).Format(TimeLayout) }

// BuildForm encrypts params under the method's request key and returns the
// complete, signed form: a raw call, for conformance tests of a platform
// (or of the simulator) that must send what the typed calls refuse to.
func (c *Client) BuildForm(method, token string, params any) (url.Values, error) {
	key, ok := RequestKey(method)
	if !ok {
		return nil, &RequestError{Method: method, Field: "method", Reason: "unknown method"}
	}
	plain, err := json.Marshal(map[string]any{key: params})
	if err != nil {
		return nil, &RequestError{Method: method, Field: "request", Reason: err.Error()}
	}
	fields := map[string]string{
		"access_token": token,
		"app_key":      c.cfg.AppKey,
		"format":       Format,
		"method":       method,
		"request":      c.cfg.Cipher.Encrypt(plain),
		"sign_method":  SignMethod,
		"timestamp":    c.timestamp(c.now()),
		"v":            Version,
	}
	for name, max := range SystemFieldLimits {
		if err := checkLen(method, name, fields[name], max, true); err != nil {
			return nil, err
		}
	}
	sig, err := Sign(c.cfg.PrivateKey, fields)
	if err != nil {
		return nil, &RequestError{Method: method, Field: "sign", Reason: err.Error()}
	}
	form := make(url.Values, len(fields)+1)
	for k, v := range fields {
		form.Set(k, v)
	}
	form.Set("sign", sig)
	return form, nil
}

// observe reports a finished call to Config.Observe.
func (c *Client) observe(method string, start time.Time, err *error) {
	if c.cfg.Observe != nil {
		c.cfg.Observe(CallInfo{Method: method, Duration: time.Since(start), Err: *err})
	}
}

// post sends the form and returns the HTTP status and body. Its
// TransportError says whether the request was completely written.
func (c *Client) post(ctx context.Context, method, target string, form url.Values) (int, []byte, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, &TransportError{Method: method, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, &TransportError{Method: method, Sent: wrote.Load(), Err: err}
	}
	defer resp.Body.Close()
	c.noteDate(resp.Header)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return resp.StatusCode, nil, &TransportError{Method: method, Sent: true, Err: fmt.Errorf("reading reply: %w", err)}
	}
	if len(body) > maxReplyBytes {
		return resp.StatusCode, nil, &DecodeError{Method: method, What: "reply body", Err: fmt.Errorf("longer than %d bytes", maxReplyBytes)}
	}
	return resp.StatusCode, body, nil
}

// call performs one enveloped call and returns the decrypted reply object
// with retcode 0, or a typed error.
func (c *Client) call(ctx context.Context, method, token string, params any) (json.RawMessage, error) {
	form, err := c.BuildForm(method, token, params)
	if err != nil {
		return nil, err
	}
	status, body, err := c.post(ctx, method, c.cfg.URL, form)
	if err != nil {
		return nil, err
	}
	return c.open(method, status, body)
}

// open turns a reply body into the decrypted reply object, checking in
// order: HTTP status, bare text, envelope, signature, errcode, decryption,
// retcode.
func (c *Client) open(method string, status int, body []byte) (json.RawMessage, error) {
	r, err := ParseReply(method, status, body)
	var te *TextError
	if status != http.StatusOK {
		// A non-200 status is a failed exchange whatever the body holds (an
		// error page is usually text); the text stays reachable through
		// errors.As so that it can still be shown.
		tr := &TransportError{Method: method, Sent: true, Status: status}
		if errors.As(err, &te) {
			tr.Err = te
		}
		return nil, tr
	}
	if err != nil {
		return nil, err
	}
	if c.cfg.PlatformKey != nil && (r.Sign != "" || r.Errcode == ErrcodeOK) {
		if err := Verify(c.cfg.PlatformKey, r.Fields(), r.Sign); err != nil {
			return nil, &SignatureError{Method: method, Err: err}
		}
	}
	if r.Errcode != ErrcodeOK {
		return nil, &SystemError{Method: method, Code: r.Errcode}
	}
	if r.Request == "" {
		return nil, &DecodeError{Method: method, What: "reply", Err: errors.New("errcode 0 but no request field")}
	}
	plain, err := c.cfg.Cipher.Decrypt(r.Request)
	if err != nil {
		return nil, &DecodeError{Method: method, What: "reply request", Err: err}
	}
	key, _ := RequestKey(method)
	inner, st, err := openReply(plain, key)
	if err != nil {
		return nil, &DecodeError{Method: method, What: "reply JSON", Err: err}
	}
	if st.Retcode != RetcodeOK {
		return nil, &BusinessError{Method: method, Retcode: string(st.Retcode), Msg: string(st.Errmsg)}
	}
	return inner, nil
}

func decodeInto(method string, inner json.RawMessage, v any) error {
	if err := json.Unmarshal(inner, v); err != nil {
		return &DecodeError{Method: method, What: "reply fields", Err: err}
	}
	return nil
}

// AccessToken calls synjones.authorize.access_token. It always presents the
// 128-zero first-token value: the token it is replacing may already be void.
func (c *Client) AccessToken(ctx context.Context) (_ AccessToken, err error) {
	defer c.observe(MethodAccessToken, time.Now(), &err)
	m := MethodAccessToken
	inner, err := c.call(ctx, m, strings.Repeat("0", FirstTokenLen), struct{}{})
	if err != nil {
		return AccessToken{}, err
	}
	var w struct {
		AccessToken flexString `json:"access_token"`
		ExpiresIn   flexString `json:"expires_in"`
	}
	if err := decodeInto(m, inner, &w); err != nil {
		return AccessToken{}, err
	}
	if w.AccessToken == "" || len(w.AccessToken) > 128 {
		return AccessToken{}, &DecodeError{Method: m, What: "access_token", Err: fmt.Errorf("length %d, want 1 to 128", len(w.AccessToken))}
	}
	secs, err := money.ParseFen(string(w.ExpiresIn)) // a whole number, as fen are
	if err != nil || secs <= 0 {
		return AccessToken{}, &DecodeError{Method: m, What: "expires_in", Err: fmt.Errorf("%q is not a positive number of seconds", string(w.ExpiresIn))}
	}
	return AccessToken{Value: string(w.AccessToken), ExpiresIn: time.Duration(secs) * time.Second}, nil
}

type wireCard struct {
	Account        flexString `json:"account"`
	Name           flexString `json:"name"`
	UnsettleAmount flexString `json:"unsettle_amount"`
	DBBalance      flexString `json:"db_balance"`
	LostFlag       flexString `json:"lostflag"`
	FreezeFlag     flexString `json:"freezeflag"`
	IDFlag         flexString `json:"idflag"`
	BarFlag        flexString `json:"barflag"`
	CreateDate     flexString `json:"createdate"`
	ExpDate        flexString `json:"expdate"`
	CardType       flexString `json:"cardtype"`
	CardName       flexString `json:"cardname"`
	BankAcc        flexString `json:"bankacc"`
	SNo            flexString `json:"sno"`
	Phone          flexString `json:"phone"`
	CertType       flexString `json:"certtype"`
	Cert           flexString `json:"cert"`
	AutoTransLimit flexString `json:"autotrans_limite"`
	AutoTransAmt   flexString `json:"autotrans_amt"`
	AutoTransFlag  flexString `json:"autotrans_flag"`
	MSCard         flexString `json:"mscard"`
	SCardNum       flexString `json:"scard_num"`
	MergeFlag      flexString `json:"merge_flag"`
}

// fenField parses an amount-in-fen reply field; optional ones may be empty.
func fenField(m, name string, v flexString, required bool) (money.Fen, error) {
	if v == "" && !required {
		return 0, nil
	}
	f, err := money.ParseFen(string(v))
	if err != nil {
		return 0, &DecodeError{Method: m, What: name, Err: err}
	}
	return f, nil
}

func (w wireCard) card() (Card, error) {
	m := MethodQueryCard
	if w.Account == "" {
		return Card{}, &DecodeError{Method: m, What: "card.account", Err: errors.New("empty")}
	}
	c := Card{
		Account: string(w.Account), Name: string(w.Name),
		Lost: w.LostFlag != "0", Frozen: w.FreezeFlag != "0",
		HasIdentity: w.IDFlag == "1", BarcodeEnabled: w.BarFlag == "1",
		CreateDate: string(w.CreateDate), ExpDate: string(w.ExpDate),
		CardType: string(w.CardType), CardName: string(w.CardName),
		BankAcc: string(w.BankAcc), SNo: string(w.SNo), Phone: string(w.Phone),
		CertType: string(w.CertType), Cert: string(w.Cert),
		AutoTransFlag: string(w.AutoTransFlag), MSCard: string(w.MSCard),
		SCardNum: string(w.SCardNum), MergeFlag: string(w.MergeFlag),
	}
	var err error
	if c.UnsettleAmount, err = fenField(m, "card.unsettle_amount", w.UnsettleAmount, true); err != nil {
		return Card{}, err
	}
	if c.Balance, err = fenField(m, "card.db_balance", w.DBBalance, true); err != nil {
		return Card{}, err
	}
	if c.AutoTransLimit, err = fenField(m, "card.autotrans_limite", w.AutoTransLimit, false); err != nil {
		return Card{}, err
	}
	if c.AutoTransAmt, err = fenField(m, "card.autotrans_amt", w.AutoTransAmt, false); err != nil {
		return Card{}, err
	}
	return c, nil
}

// QueryCard calls synjones.onecard.query.card.
func (c *Client) QueryCard(ctx context.Context, token string, q CardQuery) (_ []Card, err error) {
	defer c.observe(MethodQueryCard, time.Now(), &err)
	m := MethodQueryCard
	if err := q.Validate(); err != nil {
		return nil, err
	}
	params := map[string]string{"idtype": q.IDType, "id": q.ID}
	if q.GetMerge {
		params["get_merge"] = "1"
	}
	if q.Password != "" {
		params["pwd"] = q.Password
	}
	inner, err := c.call(ctx, m, token, params)
	if err != nil {
		return nil, err
	}
	var w struct {
		Card json.RawMessage `json:"card"`
	}
	if err := decodeInto(m, inner, &w); err != nil {
		return nil, err
	}
	var wc []wireCard
	if len(w.Card) > 0 && w.Card[0] == '{' {
		// One card sent as an object instead of a one-element array.
		var one wireCard
		if err := decodeInto(m, w.Card, &one); err != nil {
			return nil, err
		}
		wc = []wireCard{one}
	} else if err := decodeInto(m, w.Card, &wc); err != nil {
		return nil, err
	}
	cards := make([]Card, 0, len(wc))
	for _, x := range wc {
		cd, err := x.card()
		if err != nil {
			return nil, err
		}
		cards = append(cards, cd)
	}
	return cards, nil
}

// wireResult holds the fields of pay and refund replies.
type wireResult struct {
	Account       flexString `json:"account"`
	Tranamt       flexString `json:"tranamt"`
	AccType       flexString `json:"acctype"`
	MercAcc       flexString `json:"mercacc"`
	OrderNo       flexString `json:"order_no"`
	OutID         flexString `json:"out_id"`
	RefundOrderNo flexString `json:"refund_order_no"`
	ReundOrderNo  flexString `json:"reund_order_no"`
}

func (w wireResult) amount(m string) (money.Fen, error) {
	a, err := money.ParseYuan(string(w.Tranamt))
	if err != nil {
		return 0, &DecodeError{Method: m, What: "tranamt", Err: err}
	}
	return a, nil
}

// checkEcho refuses a success reply that is about another order or another
// amount: confirming it would tell a customer something the platform did
// not say.
func checkEcho(m, wantOrder, gotOrder string, want, got money.Fen) error {
	if gotOrder != "" && gotOrder != wantOrder {
		return &DecodeError{Method: m, What: "order_no", Err: fmt.Errorf("reply is for order %q, not %q", gotOrder, wantOrder)}
	}
	if got != want {
		return &DecodeError{Method: m, What: "tranamt", Err: fmt.Errorf("reply amount %s differs from requested %s", got.Yuan(), want.Yuan())}
	}
	return nil
}

// Pay calls synjones.onecard.gdccard.pay. On an error, OutcomeUnknown(err)
// tells whether the platform may have charged the order.
func (c *Client) Pay(ctx context.Context, token string, p PayRequest) (_ PayResult, err error) {
	defer c.observe(MethodPay, time.Now(), &err)
	m := MethodPay
	if err := p.Validate(); err != nil {
		return PayResult{}, err
	}
	params := map[string]string{
		"account": p.Account, "tranamt": p.Amount.Yuan(), "acctype": p.AccType,
		"mercacc": p.MercAcc, "remark": p.Remark, "attach": p.Attach,
		"order_no": p.OrderNo, "termid": p.TermID,
	}
	inner, err := c.call(ctx, m, token, params)
	if err != nil {
		return PayResult{}, err
	}
	var w wireResult
	if err := decodeInto(m, inner, &w); err != nil {
		return PayResult{}, err
	}
	amt, err := w.amount(m)
	if err != nil {
		return PayResult{}, err
	}
	if err := checkEcho(m, p.OrderNo, string(w.OrderNo), p.Amount, amt); err != nil {
		return PayResult{}, err
	}
	if w.OutID == "" {
		return PayResult{}, &DecodeError{Method: m, What: "out_id", Err: errors.New("empty in a success reply")}
	}
	return PayResult{OrderNo: p.OrderNo, Account: string(w.Account), AccType: string(w.AccType), MercAcc: string(w.MercAcc), Amount: amt, OutID: string(w.OutID)}, nil
}

// Refund calls synjones.onecard.gdccard.refund.
func (c *Client) Refund(ctx context.Context, token string, r RefundRequest) (_ RefundResult, err error) {
	defer c.observe(MethodRefund, time.Now(), &err)
	m := MethodRefund
	if err := r.Validate(); err != nil {
		return RefundResult{}, err
	}
	params := map[string]string{
		"account": r.Account, "tranamt": r.Amount.Yuan(), "acctype": r.AccType,
		"mercacc": r.MercAcc, "order_no": r.OrderNo, "refund_order_no": r.RefundOrderNo,
		"termid": r.TermID,
	}
	inner, err := c.call(ctx, m, token, params)
	if err != nil {
		return RefundResult{}, err
	}
	var w wireResult
	if err := decodeInto(m, inner, &w); err != nil {
		return RefundResult{}, err
	}
	amt, err := w.amount(m)
	if err != nil {
		return RefundResult{}, err
	}
	if err := checkEcho(m, r.OrderNo, string(w.OrderNo), r.Amount, amt); err != nil {
		return RefundResult{}, err
	}
	orig := string(w.RefundOrderNo)
	if orig == "" {
		orig = string(w.ReundOrderNo)
	}
	return RefundResult{OrderNo: r.OrderNo, RefundOrderNo: orig, Account: string(w.Account), AccType: string(w.AccType), MercAcc: string(w.MercAcc), Amount: amt, OutID: string(w.OutID)}, nil
}

// QueryPayments calls synjones.onecard.pay.query for up to 50 orders and
// returns one status per query, in the order asked. An item the reply
// leaves out, or one that cannot be matched, is an error: a guess here
// could settle an order the wrong way.
func (c *Client) QueryPayments(ctx context.Context, token string, qs []PayQuery) (_ []PayStatus, err error) {
	defer c.observe(MethodPayQuery, time.Now(), &err)
	m := MethodPayQuery
	if err := validatePayQueries(qs); err != nil {
		return nil, err
	}
	items := make([]map[string]string, len(qs))
	for i, q := range qs {
		items[i] = map[string]string{"account": q.Account, "acctype": q.AccType, "order_no": q.OrderNo}
	}
	inner, err := c.call(ctx, m, token, map[string]any{"pay_queries": items})
	if err != nil {
		return nil, err
	}
	type wireStatus struct {
		Account     flexString `json:"account"`
		AccType     flexString `json:"acctype"`
		Tranamt     flexString `json:"tranamt"`
		OrderNo     flexString `json:"order_no"`
		OutID       flexString `json:"out_id"`
		OrderStatus flexCode   `json:"order_status"`
		OrderDesc   flexString `json:"order_desc"`
		Retcode     flexCode   `json:"retcode"`
		Errmsg      flexString `json:"errmsg"`
	}
	var w struct {
		Querys  []wireStatus `json:"pay_querys"`
		Queries []wireStatus `json:"pay_queries"`
	}
	if err := decodeInto(m, inner, &w); err != nil {
		return nil, err
	}
	list := w.Querys
	if list == nil {
		list = w.Queries
	}
	byNo := make(map[string]wireStatus, len(list))
	positional := true
	for _, s := range list {
		if s.OrderNo != "" {
			positional = false
			byNo[string(s.OrderNo)] = s
		}
	}
	// The spec's own example omits order_no in the items; then, and only
	// if the counts agree, the items answer the queries in order.
	if positional && len(list) != len(qs) {
		return nil, &DecodeError{Method: m, What: "pay_querys", Err: fmt.Errorf("%d items without order_no for %d queries", len(list), len(qs))}
	}
	out := make([]PayStatus, len(qs))
	for i, q := range qs {
		var s wireStatus
		if positional {
			s = list[i]
		} else {
			var ok bool
			if s, ok = byNo[q.OrderNo]; !ok {
				return nil, &DecodeError{Method: m, What: "pay_querys", Err: fmt.Errorf("no item for order %q", q.OrderNo)}
			}
		}
		st := PayStatus{
			Account: string(s.Account), AccType: string(s.AccType), OrderNo: q.OrderNo,
			OutID: string(s.OutID), Status: OrderStatus(s.OrderStatus), Desc: string(s.OrderDesc),
			Retcode: string(s.Retcode), Msg: string(s.Errmsg),
		}
		if st.Status == "" {
			return nil, &DecodeError{Method: m, What: "order_status", Err: fmt.Errorf("missing for order %q", q.OrderNo)}
		}
		if s.Tranamt != "" {
			a, err := money.ParseYuan(string(s.Tranamt))
			if err != nil {
				return nil, &DecodeError{Method: m, What: "tranamt", Err: err}
			}
			st.Amount = a
		}
		out[i] = st
	}
	return out, nil
}

// DownloadBill calls synjones.onecard.down.bill and returns the parsed,
// checked bill together with its text (decrypted for crypt_type 1).
func (c *Client) DownloadBill(ctx context.Context, token string, b BillRequest) (_ *Bill, _ []byte, err error) {
	defer c.observe(MethodDownBill, time.Now(), &err)
	m := MethodDownBill
	if err := b.Validate(); err != nil {
		return nil, nil, err
	}
	crypt := "0"
	if b.Encrypted {
		crypt = "1"
	}
	form, err := c.BuildForm(m, token, map[string]string{"bill_date": b.Date, "bill_type": b.Type, "crypt_type": crypt})
	if err != nil {
		return nil, nil, err
	}
	status, body, err := c.post(ctx, m, c.cfg.BillURL, form)
	if err != nil {
		return nil, nil, err
	}
	trimmed := bytes.TrimSpace(body)
	if bytes.HasPrefix(trimmed, []byte("errcode=")) || status != http.StatusOK {
		// Failures come as the usual envelope (or bare text); open reports
		// them with their types. A success envelope is not a bill.
		if _, err := c.open(m, status, body); err != nil {
			return nil, nil, err
		}
		return nil, nil, &DecodeError{Method: m, What: "bill", Err: errors.New("an envelope with errcode 0 instead of the bill")}
	}
	text := trimmed
	if b.Encrypted {
		if !looksBase64(trimmed) {
			return nil, nil, &TextError{Method: m, Status: status, Text: bodyText(body)}
		}
		if text, err = c.cfg.Cipher.DecryptBill(trimmed); err != nil {
			return nil, nil, &DecodeError{Method: m, What: "encrypted bill", Err: err}
		}
	} else if !bytes.HasPrefix(trimmed, []byte("#")) {
		return nil, nil, &TextError{Method: m, Status: status, Text: bodyText(body)}
	}
	bill, err := ParseBill(text)
	if err != nil {
		return nil, nil, &DecodeError{Method: m, What: "bill", Err: err}
	}
	return bill, text, nil
}

func looksBase64(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=', c == '\r', c == '\n':
		default:
			return false
		}
	}
	return true
}
