package onecard

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Method names of the six calls.
const (
	MethodAccessToken = "synjones.authorize.access_token"
	MethodQueryCard   = "synjones.onecard.query.card"
	MethodPay         = "synjones.onecard.gdccard.pay"
	MethodRefund      = "synjones.onecard.gdccard.refund"
	MethodPayQuery    = "synjones.onecard.pay.query"
	MethodDownBill    = "synjones.onecard.down.bill"
)

// RequestKey maps a method to the single top-level key of its request and
// reply JSON.
func RequestKey(method string) (string, bool) {
	k, ok := requestKeys[method]
	return k, ok
}

var requestKeys = map[string]string{
	MethodAccessToken: "authorize_access_token",
	MethodQueryCard:   "query_card",
	MethodPay:         "gdccard_pay",
	MethodRefund:      "gdccard_refund",
	MethodPayQuery:    "pay_query",
	MethodDownBill:    "down_bill",
}

// Fixed system parameters (NOTES "Transport").
const (
	Format        = "json"
	Version       = "2.0"
	SignMethod    = "rsa"
	TimeLayout    = "2006-01-02 15:04:05"
	FirstTokenLen = 128
)

// SystemFieldLimits are the maximum byte lengths of the system fields
// (spec 1.2.1); `request` and `sign` are unbounded.
var SystemFieldLimits = map[string]int{
	"method":       64,
	"timestamp":    19,
	"format":       16,
	"app_key":      128,
	"access_token": 128,
	"v":            16,
	"sign_method":  16,
}

// Reply is a decoded reply envelope: errcode, the base64 ciphertext of the
// reply JSON, and the platform's signature.
type Reply struct {
	Errcode string
	Request string
	Sign    string
	// HasRequest distinguishes an absent request field from an empty one:
	// both are signed differently.
	HasRequest bool
	// Extra holds the fields the spec notes do not name, by name. Nothing
	// reads them; they are kept because the platform's signature covers
	// every field but sign (NOTES, "Response envelope").
	Extra map[string]string
}

// Fields returns the signed fields of the reply: every field but sign.
func (r Reply) Fields() map[string]string {
	f := make(map[string]string, len(r.Extra)+2)
	maps.Copy(f, r.Extra)
	f["errcode"] = r.Errcode
	if r.HasRequest {
		f["request"] = r.Request
	}
	return f
}

// EncodeReply builds a signed reply body, as the platform sends it. A nil
// key leaves the reply unsigned. Used by the simulator.
func EncodeReply(errcode, request string, withRequest bool, key *rsa.PrivateKey) ([]byte, error) {
	r := Reply{Errcode: errcode, Request: request, HasRequest: withRequest}
	var b strings.Builder
	b.WriteString("errcode=")
	b.WriteString(url.QueryEscape(errcode))
	if withRequest {
		b.WriteString("&request=")
		b.WriteString(url.QueryEscape(request))
	}
	if key != nil {
		sig, err := Sign(key, r.Fields())
		if err != nil {
			return nil, err
		}
		b.WriteString("&sign=")
		b.WriteString(url.QueryEscape(sig))
	}
	return []byte(b.String()), nil
}

// errNotEnvelope marks a body that is not an envelope at all (bare text).
type errNotEnvelope struct{}

func (errNotEnvelope) Error() string { return "not an envelope" }

// ParseReply decodes a reply envelope body. A body that is no envelope at
// all (bare text, perhaps GBK) yields a *TextError; a malformed envelope a
// *DecodeError. ParseReply does not verify the signature.
func ParseReply(method string, status int, body []byte) (Reply, error) {
	r, err := parseEnvelope(body)
	if _, bare := err.(errNotEnvelope); bare {
		return Reply{}, &TextError{Method: method, Status: status, Text: bodyText(body)}
	}
	if err != nil {
		return Reply{}, &DecodeError{Method: method, What: "reply envelope", Err: err}
	}
	return r, nil
}

func parseEnvelope(body []byte) (Reply, error) {
	s := string(bytes.TrimSpace(body))
	if !strings.HasPrefix(s, "errcode=") {
		return Reply{}, errNotEnvelope{}
	}
	var r Reply
	seen := map[string]bool{}
	for _, part := range strings.Split(s, "&") {
		name, raw, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return Reply{}, fmt.Errorf("field %q has no name or no '='", Truncate(part, 40))
		}
		val, err := url.QueryUnescape(raw)
		if err != nil {
			return Reply{}, fmt.Errorf("field %s: %w", name, err)
		}
		if seen[name] {
			return Reply{}, fmt.Errorf("field %s appears twice", name)
		}
		seen[name] = true
		switch name {
		case "errcode":
			r.Errcode = val
		case "request":
			r.Request, r.HasRequest = val, true
		case "sign":
			r.Sign = val
		default:
			// A field the notes do not name is never read, so it cannot
			// change what the reply says; it stays in the signed set
			// (Fields), so that one the platform did not sign fails the
			// signature check rather than slipping past it.
			if r.Extra == nil {
				r.Extra = map[string]string{}
			}
			r.Extra[name] = val
		}
	}
	if r.Errcode == "" {
		return Reply{}, fmt.Errorf("errcode is empty")
	}
	if len(r.Errcode) > 10 {
		return Reply{}, fmt.Errorf("errcode %q is longer than 10 bytes", Truncate(r.Errcode, 20))
	}
	return r, nil
}

// bodyText turns a bare-text body into printable UTF-8: GBK is decoded,
// surrounding space trimmed, and the result cut to a sensible length.
func bodyText(body []byte) string {
	b := bytes.TrimSpace(body)
	if !utf8.Valid(b) {
		if dec, err := simplifiedchinese.GBK.NewDecoder().Bytes(b); err == nil {
			b = dec
		}
	}
	return Truncate(strings.ToValidUTF8(string(b), "\uFFFD"), 512)
}

// Truncate cuts s to at most n bytes at a UTF-8 character boundary, and
// marks the cut with "…" (3 more bytes): how text is fitted into the
// spec's byte limits (errmsg, order_desc) and quoted in errors, here and
// in the simulator.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// replyStatus carries the fields every decrypted reply object has.
type replyStatus struct {
	Retcode flexCode   `json:"retcode"`
	Errmsg  flexString `json:"errmsg"`
}

// openReply decodes the decrypted reply JSON, checking that it holds the
// top-level key expected, and returns the inner object. Other top-level
// keys are ignored, as unknown fields are everywhere in a reply (NOTES,
// "What the platform may not do for you"): the answer is under the
// method's own key or nowhere.
func openReply(plain []byte, key string) (json.RawMessage, replyStatus, error) {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(plain, &outer); err != nil {
		return nil, replyStatus{}, fmt.Errorf("reply JSON: %w", err)
	}
	inner, ok := outer[key]
	if !ok {
		keys := make([]string, 0, len(outer))
		for k := range outer {
			keys = append(keys, Truncate(k, 40))
		}
		slices.Sort(keys)
		return nil, replyStatus{}, fmt.Errorf("reply JSON has keys %q, not %q", keys, key)
	}
	var st replyStatus
	if err := json.Unmarshal(inner, &st); err != nil {
		return nil, replyStatus{}, fmt.Errorf("reply %s: %w", key, err)
	}
	if st.Retcode == "" {
		return nil, replyStatus{}, fmt.Errorf("reply %s has no retcode", key)
	}
	return inner, st, nil
}

// flexString reads a JSON string, number or null: replies are read
// leniently (NOTES "Numbers and amounts"). A number is kept as the text of
// its JSON literal, never through a float, so that an amount such as 12.5
// reaches money.ParseYuan digit for digit and an 18-digit out_id keeps
// every digit; the field's own parser decides what the text may be.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	default:
		return fmt.Errorf("want a string or a number, got %s", Truncate(string(b), 20))
	}
	return nil
}

// flexCode reads a code (retcode, order_status) leniently like flexString,
// but a number must be a whole one: 0 and 60 are codes, 0.0 and 6e1 are
// not, and reading them as text would turn a success into a decline.
type flexCode string

func (c *flexCode) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] != '"' && strings.ContainsAny(string(b), ".eE") {
		return fmt.Errorf("code %s is not a whole number", Truncate(string(b), 20))
	}
	*c = flexCode(s)
	return nil
}
