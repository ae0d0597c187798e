package sim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/campuspos/kiosk/agent/onecard"
)

// systemFields are the nine form fields of every request.
var systemFields = []string{"access_token", "app_key", "format", "method", "request", "sign", "sign_method", "timestamp", "v"}

// MaxClockSkew is how far a request's timestamp may be from the
// simulator's clock (spec 1.2.1).
const MaxClockSkew = 6 * time.Minute

// firstTokenValue is what the token method presents before it has a token.
var firstTokenValue = strings.Repeat("0", onecard.FirstTokenLen)

// form is a parsed request body, or why it could not be parsed.
type form struct {
	fields map[string]string
	err    string // why the form is malformed (40001), for the log
}

func (f form) method() string { return f.fields["method"] }

// parseForm reads the body strictly. Problems are kept, not returned: the
// fault machinery needs the method name even of a malformed request.
func parseForm(r *http.Request, body []byte, readErr error) form {
	f := form{fields: map[string]string{}}
	if readErr != nil {
		f.err = "body unreadable or over 1 MiB"
		return f
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		f.err = "body is not form-urlencoded"
		return f
	}
	for name, v := range vals {
		if len(v) > 0 {
			f.fields[name] = v[0]
		}
		if len(v) != 1 && f.err == "" {
			f.err = fmt.Sprintf("field %q appears %d times", onecard.Truncate(name, 20), len(v))
		}
	}
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case f.err != "":
	case err != nil || ct != "application/x-www-form-urlencoded":
		f.err = "Content-Type is not application/x-www-form-urlencoded"
	case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
		f.err = "charset is not UTF-8"
	case r.URL.RawQuery != "":
		f.err = "fields in the URL's query string"
	}
	return f
}

// handle runs one API request through the system layer and, when it
// passes, the business layer. fault is the fault that hit the request, if
// any: a request that passes the system layer is held for late processing
// instead (held true, rep empty) when fault is FaultLate or, without a
// fault, when Options.Hold picks it.
func (s *Server) handle(f form, bill bool, fault *Fault) (rep reply, held bool) {
	sys := func(code, why string) reply { return reply{errcode: code, note: " (" + why + ")"} }
	if f.err != "" {
		return sys("40001", f.err), false
	}
	for _, name := range systemFields {
		v, ok := f.fields[name]
		if !ok {
			return sys("40001", "field "+name+" missing"), false
		}
		if v == "" {
			return sys("40001", "field "+name+" empty"), false
		}
	}
	if len(f.fields) != len(systemFields) {
		for name := range f.fields {
			if !isSystemField(name) {
				return sys("40001", fmt.Sprintf("unexpected field %q", onecard.Truncate(name, 20))), false
			}
		}
	}
	for name, max := range onecard.SystemFieldLimits {
		if n := len(f.fields[name]); n > max {
			return sys("40001", fmt.Sprintf("%s is %d bytes, at most %d", name, n, max)), false
		}
	}
	switch {
	case f.fields["format"] != onecard.Format:
		return sys("40015", "format is not json"), false
	case f.fields["v"] != onecard.Version:
		return sys("40016", "v is not 2.0"), false
	case f.fields["sign_method"] != onecard.SignMethod:
		return sys("40003", "sign_method is not rsa"), false
	case subtle.ConstantTimeCompare([]byte(f.fields["app_key"]), []byte(s.opts.AppKey)) != 1:
		return sys("40002", "unknown app_key"), false
	}
	now := s.Now()
	ts := f.fields["timestamp"]
	t, err := time.ParseInLocation(onecard.TimeLayout, ts, s.loc)
	if err != nil || len(ts) != len(onecard.TimeLayout) {
		return sys("40018", "timestamp is not yyyy-MM-dd HH:mm:ss"), false
	}
	if skew := now.Sub(t); skew > MaxClockSkew || skew < -MaxClockSkew {
		return sys("40018", fmt.Sprintf("timestamp %s off the platform clock", skew.Round(time.Second))), false
	}
	if err := onecard.Verify(s.opts.ClientKey, f.fields, f.fields["sign"]); err != nil {
		return sys("40004", "signature does not verify"), false
	}
	method := f.fields["method"]
	key, known := onecard.RequestKey(method)
	switch {
	case !known:
		return sys("40012", "unknown method"), false
	case bill && method != onecard.MethodDownBill:
		return sys("40012", "only down.bill is served on the bill path"), false
	case !bill && method == onecard.MethodDownBill:
		return sys("40012", "down.bill is served on the bill path only"), false
	}
	plain, err := s.cipher.Decrypt(f.fields["request"])
	if err != nil {
		return sys("40015", "request does not decrypt"), false
	}
	params, why := openRequest(plain, key)
	if why != "" {
		return sys("40015", why), false
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if why := s.checkToken(method, f.fields["access_token"], now); why != "" {
		return sys(onecard.ErrcodeTokenInvalid, why), false
	}
	if d := s.holdFor(method, fault); d > 0 {
		s.hold(&heldRequest{method: method, key: key, params: params}, d)
		return reply{}, true
	}
	return s.business(method, key, params, now), false
}

func isSystemField(name string) bool {
	for _, n := range systemFields {
		if n == name {
			return true
		}
	}
	return false
}

// checkToken applies the access_token rules; s.mu is held.
func (s *Server) checkToken(method, tok string, now time.Time) string {
	if method == onecard.MethodAccessToken {
		if tok == firstTokenValue || s.token.issued[tok] {
			return ""
		}
		return "token method with a token this platform never issued"
	}
	cur := s.token.current
	switch {
	case cur == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(cur)) != 1:
		if s.token.issued[tok] {
			return "access_token was replaced by a newer one"
		}
		return "access_token unknown"
	case !now.Before(s.token.expires):
		return "access_token expired"
	}
	return ""
}

// openRequest checks the decrypted request JSON: valid UTF-8, one object
// with exactly the method's key, whose value is an object. It returns that
// object's members.
func openRequest(plain []byte, key string) (map[string]json.RawMessage, string) {
	if !utf8.Valid(plain) {
		return nil, "request is not UTF-8"
	}
	outer, err := readObject(plain)
	if err != nil {
		return nil, "request JSON: " + err.Error()
	}
	inner, ok := outer[key]
	if !ok || len(outer) != 1 {
		return nil, fmt.Sprintf("request JSON must hold only the key %q", key)
	}
	params, err := readObject(inner)
	if err != nil {
		return nil, "request " + key + ": " + err.Error()
	}
	return params, ""
}

// readObject decodes one JSON object strictly: no duplicate keys, nothing
// after it. encoding/json would let the last duplicate win silently.
func readObject(raw []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("key %q appears twice", onecard.Truncate(name, 20))
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON object")
	}
	return m, nil
}
