package sim_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// These tests talk to the simulator with hand-made requests, to check the
// strictness a well-behaved client never meets.

type rig struct {
	srv       *sim.Server
	c         *onecard.Client
	clk       *onecardtest.Clock
	tok       string
	client    *rsa.PrivateKey
	platform  *rsa.PublicKey
	cipher    *onecard.Cipher
	httpc     *http.Client
	unsigned  bool
	startTime time.Time
}

func newRig(t *testing.T, opts ...func(*sim.Options)) *rig {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	start := time.Date(2024, 5, 12, 10, 0, 0, 0, loc)
	clk := onecardtest.NewClock(start)
	opts = append([]func(*sim.Options){func(o *sim.Options) { o.Now = clk.Now }}, opts...)
	srv, c := onecardtest.NewTestPair(t, opts...)
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(secret)
	require.NoError(t, err)
	return &rig{srv: srv, c: c, clk: clk, tok: tok.Value, client: clientPriv, platform: &platformPriv.PublicKey,
		cipher: cipher, httpc: &http.Client{Timeout: 5 * time.Second}, startTime: start}
}

// form builds a correctly signed request for params.
func (r *rig) form(t *testing.T, method string, params any) url.Values {
	t.Helper()
	f, err := r.c.BuildForm(method, r.tok, params)
	require.NoError(t, err)
	return f
}

// resign signs a form again after a change to a signed field.
func (r *rig) resign(t *testing.T, f url.Values) url.Values {
	t.Helper()
	fields := map[string]string{}
	for k, v := range f {
		fields[k] = v[0]
	}
	sig, err := onecard.Sign(r.client, fields)
	require.NoError(t, err)
	f.Set("sign", sig)
	return f
}

// response is a reply the rig has verified and opened.
type response struct {
	status  int
	errcode string
	inner   map[string]any // the reply object, for errcode 0
	raw     []byte
}

func (r *rig) post(t *testing.T, target, contentType, body string) response {
	t.Helper()
	resp, err := r.httpc.Post(target, contentType, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return r.open(t, resp.StatusCode, b)
}

func (r *rig) open(t *testing.T, status int, body []byte) response {
	t.Helper()
	out := response{status: status, raw: body}
	if !bytes.HasPrefix(body, []byte("errcode=")) {
		return out
	}
	rep, err := onecard.ParseReply("", status, body)
	require.NoError(t, err)
	if r.unsigned {
		assert.Empty(t, rep.Sign)
	} else {
		require.NoError(t, onecard.Verify(r.platform, rep.Fields(), rep.Sign), "every reply is signed")
	}
	out.errcode = rep.Errcode
	if rep.Errcode != onecard.ErrcodeOK {
		assert.False(t, rep.HasRequest, "a system error carries no request field")
		return out
	}
	plain, err := r.cipher.Decrypt(rep.Request)
	require.NoError(t, err)
	var outer map[string]map[string]any
	require.NoError(t, json.Unmarshal(plain, &outer))
	require.Len(t, outer, 1)
	for _, v := range outer {
		out.inner = v
	}
	return out
}

func (r *rig) send(t *testing.T, f url.Values) response {
	t.Helper()
	target := r.srv.URL()
	if f.Get("method") == onecard.MethodDownBill {
		target = r.srv.BillURL()
	}
	return r.post(t, target, "application/x-www-form-urlencoded; charset=UTF-8", f.Encode())
}

func TestSystemLayer(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	payParams := map[string]string{"account": sim.DemoNormal, "tranamt": "1.00", "acctype": "###", "mercacc": "100000", "order_no": "S-1"}
	set := func(name, value string) func(*testing.T, url.Values) url.Values {
		return func(_ *testing.T, f url.Values) url.Values { f.Set(name, value); return f }
	}
	setSigned := func(name, value string) func(*testing.T, url.Values) url.Values {
		return func(t *testing.T, f url.Values) url.Values { f.Set(name, value); return r.resign(t, f) }
	}
	encrypt := func(plain string) func(*testing.T, url.Values) url.Values {
		return setSigned("request", r.cipher.Encrypt([]byte(plain)))
	}
	tests := []struct {
		name        string
		method      string
		change      func(*testing.T, url.Values) url.Values
		contentType string
		target      string
		want        string
	}{
		{name: "missing v", change: func(_ *testing.T, f url.Values) url.Values { f.Del("v"); return f }, want: "40001"},
		{name: "extra field", change: set("extra", "1"), want: "40001"},
		{name: "repeated field", change: func(_ *testing.T, f url.Values) url.Values { f.Add("format", "json"); return f }, want: "40001"},
		{name: "empty access_token", change: set("access_token", ""), want: "40001"},
		{name: "method over 64 bytes", change: set("method", strings.Repeat("m", 65)), want: "40001"},
		{name: "timestamp over 19 bytes", change: set("timestamp", "2024-05-12 10:00:00.000"), want: "40001"},
		{name: "JSON content type", contentType: "application/json", want: "40001"},
		{name: "GBK charset", contentType: "application/x-www-form-urlencoded; charset=GBK", want: "40001"},
		{name: "fields in the query string", target: "?v=2.0", want: "40001"},
		{name: "format xml", change: set("format", "xml"), want: "40015"},
		{name: "v 1.0", change: set("v", "1.0"), want: "40016"},
		{name: "sign_method md5", change: set("sign_method", "md5"), want: "40003"},
		{name: "unknown app_key", change: set("app_key", "stranger"), want: "40002"},
		{name: "timestamp with slashes", change: setSigned("timestamp", "2024/05/12 10:00:00"), want: "40018"},
		{name: "timestamp 7 minutes old", change: setSigned("timestamp", "2024-05-12 09:53:00"), want: "40018"},
		{name: "timestamp 6 minutes ahead", change: setSigned("timestamp", "2024-05-12 10:06:00"), want: "0"},
		{name: "timestamp in UTC", change: setSigned("timestamp", "2024-05-12 02:00:00"), want: "40018"},
		{name: "request swapped after signing", change: set("request", r.cipher.Encrypt([]byte(`{"gdccard_pay":{}}`))), want: "40004"},
		{name: "signature corrupted", change: set("sign", strings.Repeat("A", 344)), want: "40004"},
		{name: "unknown method", change: setSigned("method", "synjones.onecard.transfer"), want: "40012"},
		{name: "down.bill on the main path", change: setSigned("method", onecard.MethodDownBill), target: "main", want: "40012"},
		{name: "pay on the bill path", target: "bill", want: "40012"},
		{name: "unknown token", change: setSigned("access_token", strings.Repeat("f", 64)), want: "40017"},
		{name: "first-token zeros on pay", change: setSigned("access_token", strings.Repeat("0", 128)), want: "40017"},
		{name: "request not base64", change: setSigned("request", "not base64!"), want: "40015"},
		{name: "request under another key", change: setSigned("request", r.cipher.Encrypt([]byte(`{"x":"y"}`))), want: "40015"},
		{name: "request JSON with two keys", change: encrypt(`{"gdccard_pay":{},"query_card":{}}`), want: "40015"},
		{name: "request key holds a string", change: encrypt(`{"gdccard_pay":"x"}`), want: "40015"},
		{name: "request duplicate member", change: encrypt(`{"gdccard_pay":{"account":"1","account":"2"}}`), want: "40015"},
		{name: "request trailing data", change: encrypt(`{"gdccard_pay":{}} {}`), want: "40015"},
		{name: "request not UTF-8", change: encrypt("{\"gdccard_pay\":{\"remark\":\"\xff\"}}"), want: "40015"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := onecard.MethodPay
			f := r.form(t, method, payParams)
			if tt.change != nil {
				f = tt.change(t, f)
			}
			target := r.srv.URL()
			switch tt.target {
			case "bill":
				target = r.srv.BillURL()
			case "main", "":
			default:
				target += tt.target
			}
			ct := tt.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			got := r.post(t, target, ct, f.Encode())
			assert.Equal(t, http.StatusOK, got.status)
			assert.Equal(t, tt.want, got.errcode)
		})
	}

	t.Run("GET", func(t *testing.T) {
		resp, err := r.httpc.Get(r.srv.URL())
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got := r.open(t, resp.StatusCode, body)
		assert.Equal(t, http.StatusMethodNotAllowed, got.status)
		assert.Equal(t, "40001", got.errcode)
	})
	t.Run("unknown path", func(t *testing.T) {
		resp, err := r.httpc.Post(r.srv.URL()+"x", "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	// Only the "6 minutes ahead" request was processed.
	assert.Equal(t, 1, r.srv.Stats().Charges)
}

func TestTokenMethodAcceptsIssuedTokens(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.clk.Advance(3 * time.Minute)
	got := r.send(t, r.form(t, onecard.MethodAccessToken, struct{}{})) // presents the issued token
	require.Equal(t, "0", got.errcode)
	assert.Equal(t, "0", got.inner["retcode"])
	assert.Equal(t, "7200", got.inner["expires_in"], "a string, as in the spec's example")
	assert.Len(t, got.inner["access_token"], 64)

	r.clk.Advance(3 * time.Minute)
	f := r.form(t, onecard.MethodAccessToken, map[string]string{"extra": "1"})
	assert.Equal(t, sim.RetcodeBadField, r.send(t, f).inner["retcode"])
}

// TestBusinessFieldRules sends requests whose envelope is fine and whose
// fields break the spec's tables: each is refused with RetcodeBadField and
// changes nothing.
func TestBusinessFieldRules(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	pay := func(change map[string]any) map[string]any {
		p := map[string]any{"account": sim.DemoNormal, "tranamt": "1.00", "acctype": "###", "mercacc": "100000", "order_no": "BF-1", "termid": "17"}
		for k, v := range change {
			if v == nil {
				delete(p, k)
			} else {
				p[k] = v
			}
		}
		return p
	}
	queries := func(n int) map[string]any {
		items := make([]map[string]string, n)
		for i := range items {
			items[i] = map[string]string{"account": "1", "acctype": "###", "order_no": "x"}
		}
		return map[string]any{"pay_queries": items}
	}
	tests := []struct {
		name   string
		method string
		params any
	}{
		{"tranamt a number", onecard.MethodPay, pay(map[string]any{"tranamt": 1})},
		{"tranamt three decimals", onecard.MethodPay, pay(map[string]any{"tranamt": "1.001"})},
		{"tranamt zero", onecard.MethodPay, pay(map[string]any{"tranamt": "0.00"})},
		{"tranamt negative", onecard.MethodPay, pay(map[string]any{"tranamt": "-1.00"})},
		{"tranamt exponent", onecard.MethodPay, pay(map[string]any{"tranamt": "1e2"})},
		{"termid a number", onecard.MethodPay, pay(map[string]any{"termid": 17})},
		{"termid zero-padded", onecard.MethodPay, pay(map[string]any{"termid": "0017"})},
		{"termid 10000", onecard.MethodPay, pay(map[string]any{"termid": "10000"})},
		{"account 11 bytes", onecard.MethodPay, pay(map[string]any{"account": "12345678901"})},
		{"mercacc null", onecard.MethodPay, pay(map[string]any{"mercacc": nil})},
		{"order_no missing", onecard.MethodPay, pay(map[string]any{"order_no": nil})},
		{"order_no 33 bytes", onecard.MethodPay, pay(map[string]any{"order_no": strings.Repeat("9", 33)})},
		{"remark with a newline", onecard.MethodPay, pay(map[string]any{"remark": "a\nb"})},
		{"attach 129 bytes", onecard.MethodPay, pay(map[string]any{"attach": strings.Repeat("a", 129)})},
		{"unknown field", onecard.MethodPay, pay(map[string]any{"currency": "CNY"})},
		{"refund without original", onecard.MethodRefund, pay(map[string]any{"termid": nil})},
		{"refund originals differ", onecard.MethodRefund, pay(map[string]any{"refund_order_no": "A", "reund_order_no": "B"})},
		{"refund with attach", onecard.MethodRefund, pay(map[string]any{"refund_order_no": "A", "attach": "x"})},
		{"idtype email", onecard.MethodQueryCard, map[string]string{"idtype": "email", "id": "a@b"}},
		{"id empty", onecard.MethodQueryCard, map[string]string{"idtype": "sno", "id": ""}},
		{"get_merge 2", onecard.MethodQueryCard, map[string]string{"idtype": "sno", "id": "1", "get_merge": "2"}},
		{"no queries", onecard.MethodPayQuery, queries(0)},
		{"51 queries", onecard.MethodPayQuery, queries(51)},
		{"queries an object", onecard.MethodPayQuery, map[string]any{"pay_queries": map[string]string{"order_no": "x"}}},
		{"query without acctype", onecard.MethodPayQuery, map[string]any{"pay_queries": []map[string]string{{"account": "1", "order_no": "x"}}}},
		{"bill_date with dashes", onecard.MethodDownBill, map[string]string{"bill_date": "2024-5-12", "bill_type": "ALL", "crypt_type": "0"}},
		{"bill_date 20240230", onecard.MethodDownBill, map[string]string{"bill_date": "20240230", "bill_type": "ALL", "crypt_type": "0"}},
		{"bill_type FAILED", onecard.MethodDownBill, map[string]string{"bill_date": "20240512", "bill_type": "FAILED", "crypt_type": "0"}},
		{"crypt_type 2", onecard.MethodDownBill, map[string]string{"bill_date": "20240512", "bill_type": "ALL", "crypt_type": "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.send(t, r.form(t, tt.method, tt.params))
			require.Equal(t, "0", got.errcode)
			assert.Equal(t, sim.RetcodeBadField, got.inner["retcode"])
			assert.Contains(t, got.inner["errmsg"], "数据格式错误")
		})
	}
	assert.Empty(t, r.srv.Transactions(), "a malformed request records nothing")
	b, _ := r.srv.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), b)

	// The order number of a malformed request is not burnt.
	got := r.send(t, r.form(t, onecard.MethodPay, pay(nil)))
	assert.Equal(t, "0", got.inner["retcode"])
	assert.Equal(t, "1.00", got.inner["tranamt"])

	// The spec table's spelling of refund_order_no is accepted.
	got = r.send(t, r.form(t, onecard.MethodRefund, pay(map[string]any{"order_no": "BF-2", "reund_order_no": "BF-1"})))
	assert.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])
	assert.Equal(t, "BF-1", got.inner["refund_order_no"])
}

func TestQueryCardRepliesStrings(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	got := r.send(t, r.form(t, onecard.MethodQueryCard, map[string]string{"idtype": "acc", "id": sim.DemoLow, "get_merge": "1"}))
	require.Equal(t, "0", got.inner["retcode"])
	cards, ok := got.inner["card"].([]any)
	require.True(t, ok, "card is an array")
	require.Len(t, cards, 1)
	card := cards[0].(map[string]any)
	for _, k := range []string{"account", "name", "unsettle_amount", "db_balance", "lostflag", "freezeflag", "idflag", "barflag",
		"createdate", "expdate", "cardtype", "cardname", "bankacc", "sno", "phone", "certtype", "cert",
		"autotrans_limite", "autotrans_amt", "autotrans_flag", "mscard", "scard_num", "merge_flag"} {
		assert.IsType(t, "", card[k], k)
	}
	assert.Equal(t, "50", card["db_balance"], "fen")
	assert.Equal(t, "0", card["lostflag"])
}

func TestUnsignedReplies(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(o *sim.Options) { o.PlatformKey = nil })
	r.unsigned = true
	got := r.send(t, r.form(t, onecard.MethodQueryCard, map[string]string{"idtype": "acc", "id": sim.DemoNormal}))
	assert.Equal(t, "0", got.inner["retcode"])
}

func TestCloseAbortsDelayedRequests(t *testing.T) {
	t.Parallel()
	_, platformPriv, secret := onecardtest.TestKeys()
	clientPriv, _, _ := onecardtest.TestKeys()
	srv, err := sim.NewHandler(sim.Options{AppKey: "k", AppSecret: secret, ClientKey: &clientPriv.PublicKey, PlatformKey: platformPriv})
	require.NoError(t, err)
	arrived := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	srv.InjectFault(sim.Fault{Kind: sim.FaultDelay, Delay: time.Hour})

	done := make(chan error, 1)
	go func() {
		resp, err := http.Post(ts.URL+"/tsm", "application/x-www-form-urlencoded", strings.NewReader("method=x"))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-arrived
	srv.Close()
	select {
	case err := <-done:
		assert.Error(t, err, "the connection is closed without an answer")
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not abort the delayed request")
	}
	srv.Close() // idempotent
}

func TestOptions(t *testing.T) {
	t.Parallel()
	clientPriv, _, secret := onecardtest.TestKeys()
	good := func() sim.Options {
		return sim.Options{AppKey: "k", AppSecret: secret, ClientKey: &clientPriv.PublicKey}
	}
	tests := []struct {
		name   string
		change func(*sim.Options)
	}{
		{"no app key", func(o *sim.Options) { o.AppKey = "" }},
		{"no client key", func(o *sim.Options) { o.ClientKey = nil }},
		{"secret of 16 bytes", func(o *sim.Options) { o.AppSecret = "MDEyMzQ1Njc4OWFiY2RlZg==" }},
		{"main path is the bill path", func(o *sim.Options) { o.MainPath = sim.BillPath }},
		{"main path under admin", func(o *sim.Options) { o.MainPath = "/_sim/tsm" }},
		{"duplicate account", func(o *sim.Options) { o.Cards = []sim.Card{{Account: "1"}, {Account: "1"}} }},
		{"account of 11 bytes", func(o *sim.Options) { o.Cards = []sim.Card{{Account: "12345678901"}} }},
		{"negative balance", func(o *sim.Options) { o.Cards = []sim.Card{{Account: "1", Balance: -1}} }},
		{"token TTL under a second", func(o *sim.Options) { o.TokenTTL = time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good()
			tt.change(&o)
			_, err := sim.NewHandler(o)
			assert.Error(t, err)
			assert.Panics(t, func() { sim.NewServer(o) })
		})
	}
	s, err := sim.NewHandler(good())
	require.NoError(t, err)
	assert.Equal(t, "/tsm", s.URL(), "no BaseURL: the path alone")
	assert.Len(t, s.Cards(), len(sim.DemoCards()))
	s.Close()

	assert.Panics(t, func() { s.InjectFault(sim.Fault{Kind: "meteor"}) })
	assert.Panics(t, func() { s.InjectFault(sim.Fault{Kind: sim.FaultDelay}) })
}

func TestAdminEndpoints(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	base := strings.TrimSuffix(r.srv.URL(), "/tsm") + "/_sim/"
	do := func(method, name, contentType, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, base+name, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := r.httpc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}

	status, body := do("POST", "faults", "application/json",
		`[{"kind":"delay","method":"synjones.onecard.gdccard.pay","times":2,"delay":"5s"},{"kind":"text"}]`)
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Equal(t, []sim.Fault{
		{Kind: sim.FaultDelay, Method: onecard.MethodPay, Times: 2, Delay: 5 * time.Second},
		{Kind: sim.FaultText},
	}, r.srv.Faults())
	var listed []sim.Fault
	_, body = do("GET", "faults", "", "")
	require.NoError(t, json.Unmarshal(body, &listed))
	assert.Equal(t, r.srv.Faults(), listed)

	for _, bad := range []string{`{"kind":"meteor"}`, `{"kind":"delay"}`, `{"kind":"text","delay":"1s"}`, `{"kind":"text","colour":"red"}`, `{"kind":"text","method":"pay"}`} {
		status, _ = do("POST", "faults", "application/json", bad)
		assert.Equal(t, http.StatusBadRequest, status, bad)
	}
	status, _ = do("POST", "faults", "text/plain", `{"kind":"text"}`)
	assert.Equal(t, http.StatusUnsupportedMediaType, status, "a form POST from a web page is refused")
	status, _ = do("DELETE", "faults", "", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, r.srv.Faults())

	status, _ = do("POST", "clock", "application/json", `{"offset":"5m"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, r.startTime.Add(5*time.Minute), r.srv.Now())
	status, _ = do("POST", "clock", "application/json", `{"offset":"soon"}`)
	assert.Equal(t, http.StatusBadRequest, status)
	r.srv.SetClockOffset(0)

	status, _ = do("POST", "processing", "application/json", `{"for":"30s"}`)
	assert.Equal(t, http.StatusOK, status)
	_, body = do("GET", "processing", "", "")
	assert.JSONEq(t, `{"for":"30s"}`, string(body))

	_, err := r.c.Pay(t.Context(), r.tok, onecard.PayRequest{OrderNo: "ADM-1", Account: sim.DemoNormal, AccType: "###", MercAcc: "100000", Amount: 2_50})
	require.NoError(t, err)
	_, body = do("GET", "ledger", "", "")
	var ledger struct {
		Transactions []sim.Transaction `json:"transactions"`
		Balances     []struct {
			Account string `json:"account"`
			Balance string `json:"balance"`
		} `json:"balances"`
	}
	require.NoError(t, json.Unmarshal(body, &ledger))
	require.Len(t, ledger.Transactions, 1)
	assert.Equal(t, "ADM-1", ledger.Transactions[0].OrderNo)
	assert.Equal(t, money.Fen(2_50), ledger.Transactions[0].Amount)
	assert.Equal(t, sim.DemoNormal, ledger.Balances[0].Account)
	assert.Equal(t, "97.50", ledger.Balances[0].Balance)

	_, body = do("GET", "stats", "", "")
	var st sim.Stats
	require.NoError(t, json.Unmarshal(body, &st))
	assert.Equal(t, 1, st.Charges)
	assert.Equal(t, 1, st.Requests[onecard.MethodPay])
	assert.Equal(t, 1, st.TokenCalls)

	status, _ = do("DELETE", "ledger", "", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	status, _ = do("GET", "nothing", "", "")
	assert.Equal(t, http.StatusNotFound, status)
}
