package sim_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// fuzzServer is a simulator with the test keys and no listener: requests go
// straight to ServeHTTP. strict sets Options.Strict.
func fuzzServer(f *testing.F, strict bool) (*sim.Server, *onecard.Client) {
	f.Helper()
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	s, err := sim.NewHandler(sim.Options{AppKey: onecardtest.TestAppKey, AppSecret: secret, ClientKey: &clientPriv.PublicKey,
		PlatformKey: platformPriv, TokenMinInterval: -1, BaseURL: "http://127.0.0.1:1", Strict: strict})
	if err != nil {
		f.Fatal(err)
	}
	cipher, err := onecard.NewCipher(secret)
	if err != nil {
		f.Fatal(err)
	}
	// The fuzzers call the handler directly; the client's few calls (the
	// token) take the same path instead of a socket.
	direct := &http.Client{Transport: handlerTransport{s}}
	c, err := onecard.New(onecard.Config{URL: s.URL(), AppKey: onecardtest.TestAppKey, Cipher: cipher, PrivateKey: clientPriv,
		Location: s.Location(), Now: s.Now, HTTPClient: direct})
	if err != nil {
		f.Fatal(err)
	}
	return s, c
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func serve(s *sim.Server, path string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// FuzzForm sends arbitrary bodies to the platform's form parser: every
// answer is an envelope with a non-zero errcode, and nothing is charged.
func FuzzForm(f *testing.F) {
	s, c := fuzzServer(f, false)
	valid, err := c.BuildForm(onecard.MethodQueryCard, strings.Repeat("0", 128), map[string]string{"idtype": "sno", "id": "1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Encode())
	f.Add("")
	f.Add("a=b&a=c")
	f.Add("method=%zz")
	f.Add(strings.Replace(valid.Encode(), "v=2.0", "v=3.0", 1))
	f.Fuzz(func(t *testing.T, body string) {
		rec := serve(s, "/tsm", body)
		if !bytes.HasPrefix(rec.Body.Bytes(), []byte("errcode=")) {
			t.Fatalf("not an envelope: %q", rec.Body.String())
		}
		if len(s.Transactions()) != 0 {
			t.Fatal("a malformed request changed the ledger")
		}
	})
}

// FuzzBusiness wraps arbitrary request JSON in a correctly encrypted and
// signed envelope, so that the business layer's field checks are fuzzed,
// on a tolerant and on a strict simulator: every answer is an envelope,
// and no balance ever goes negative.
func FuzzBusiness(f *testing.F) {
	type target struct {
		s   *sim.Server
		c   *onecard.Client
		tok string
	}
	var targets []target
	for _, strict := range []bool{false, true} {
		s, c := fuzzServer(f, strict)
		tok, err := c.AccessToken(f.Context())
		if err != nil {
			f.Fatal(err)
		}
		targets = append(targets, target{s, c, tok.Value})
	}
	for _, seed := range []struct{ method, json string }{
		{onecard.MethodPay, `{"account":"100001","tranamt":"1.00","acctype":"###","mercacc":"1","order_no":"1"}`},
		{onecard.MethodPay, `{"account":"100001","tranamt":1,"acctype":"###","mercacc":"1","order_no":"2"}`},
		{onecard.MethodRefund, `{"account":"100001","tranamt":"0.50","acctype":"###","mercacc":"1","order_no":"3","refund_order_no":"1"}`},
		{onecard.MethodPayQuery, `{"pay_queries":[{"account":"100001","acctype":"###","order_no":"1"}]}`},
		{onecard.MethodQueryCard, `{"idtype":"barcode","id":"280123456789012345"}`},
		{onecard.MethodQueryCard, `{"idtype":"sno","id":"2024000004","get_merge":"1","get_idinfo":"1","get_accinfo":"1","getschcode":"1","getcardid":"1"}`},
		{onecard.MethodPay, `{"account":"100001","tranamt":"1.00","acctype":"###","mercacc":"1","order_no":"4","currency":"CNY"}`},
	} {
		f.Add(seed.method, seed.json)
	}
	f.Fuzz(func(t *testing.T, method, params string) {
		if _, ok := onecard.RequestKey(method); !ok || method == onecard.MethodDownBill || method == onecard.MethodAccessToken {
			return
		}
		for _, tg := range targets {
			form, err := tg.c.BuildForm(method, tg.tok, rawJSON(params))
			if err != nil {
				return
			}
			rec := serve(tg.s, "/tsm", form.Encode())
			if !bytes.HasPrefix(rec.Body.Bytes(), []byte("errcode=")) {
				t.Fatalf("not an envelope: %q", rec.Body.String())
			}
			for _, card := range tg.s.Cards() {
				if card.Balance < 0 {
					t.Fatalf("balance of %s went negative", card.Account)
				}
			}
		}
	})
}

// rawJSON lets arbitrary text stand where BuildForm expects the parameter
// object; invalid JSON makes BuildForm fail, which the fuzz skips.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
