package onecard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// Platforms in the field answer in shapes the spec does not show: numbers
// where it says strings, fields it does not list (NOTES, "What the
// platform may not do for you"). These tests put a platform that writes
// such replies between the client and the simulator: the simulator does
// the business, and a proxy rewrites each of its replies into the shape a
// public client of the platform expects (shape.reshape), then encrypts and
// signs it again with the platform's TEST key, so that the client reads a
// genuine reply of that shape over real HTTP.

// shape is how the reshaping platform writes its replies.
type shape struct {
	// reply changes the decoded reply JSON: outer is the whole document,
	// inner the object under the method's key. Numbers are json.Number, so
	// that a value is written as exactly the literal given.
	reply func(outer, inner map[string]any)
	// envelope holds more envelope fields, signed with the others unless
	// unsigned.
	envelope map[string]string
	unsigned bool
}

// reshape rewrites one reply of the simulator into shape sh, signed again
// with the platform's TEST key; a system error passes as it was. It runs in
// the proxy's handler, so a failure becomes the body: the client then
// reports bare text, and the test fails on it.
func (sh shape) reshape(r onecard.Reply) []byte {
	_, platformPriv, secret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(secret)
	if err != nil {
		return []byte("reshape: " + err.Error())
	}
	if r.Errcode != onecard.ErrcodeOK {
		body, _ := onecard.EncodeReply(r.Errcode, r.Request, r.HasRequest, platformPriv)
		return body
	}
	plain, err := cipher.Decrypt(r.Request)
	if err != nil {
		return []byte("reshape: " + err.Error())
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.UseNumber()
	var outer map[string]any
	if err := dec.Decode(&outer); err != nil || len(outer) != 1 {
		return []byte(fmt.Sprintf("reshape: reply JSON %s: %v", plain, err))
	}
	var inner map[string]any
	for _, v := range outer { // the simulator writes the method's key only
		inner, _ = v.(map[string]any)
	}
	if sh.reply != nil && inner != nil {
		sh.reply(outer, inner)
	}
	if plain, err = json.Marshal(outer); err != nil {
		return []byte("reshape: " + err.Error())
	}
	fields := map[string]string{"errcode": onecard.ErrcodeOK, "request": cipher.Encrypt(plain)}
	if !sh.unsigned {
		maps.Copy(fields, sh.envelope)
	}
	sig, err := onecard.Sign(platformPriv, fields)
	if err != nil {
		return []byte("reshape: " + err.Error())
	}
	// errcode first, as platforms write it; then the rest.
	out := "errcode=0&request=" + url.QueryEscape(fields["request"])
	for _, k := range slices.Sorted(maps.Keys(sh.envelope)) {
		out += "&" + url.QueryEscape(k) + "=" + url.QueryEscape(sh.envelope[k])
	}
	return []byte(out + "&sign=" + url.QueryEscape(sig))
}

// num makes a field a JSON number written exactly as lit.
func num(lit string) any { return json.Number(lit) }

// numbers rewrites the named fields of a reply object as the JSON numbers
// their strings hold.
func numbers(inner map[string]any, names ...string) {
	for _, n := range names {
		if s, ok := inner[n].(string); ok && s != "" {
			inner[n] = num(s)
		}
	}
}

// through returns a client of e that talks to the platform of shape sh: a
// proxy (tamperProxy) in front of the simulator.
func (e *env) through(t *testing.T, sh shape) *onecard.Client {
	t.Helper()
	proxy := tamperProxy(t, e.srv.URL(), sh.reshape)
	return e.client(t, func(cfg *onecard.Config) { cfg.URL = proxy })
}

// requireDecodeError asserts that a reply was refused as undecodable,
// which leaves the outcome open: never a decline, never a success.
func requireDecodeError(t *testing.T, err error, what string) {
	t.Helper()
	var de *onecard.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, de.What, what)
	assert.True(t, onecard.OutcomeUnknown(err), "an unreadable answer may hide a charge")
}

func TestReplyShapesAccessToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.clock.Advance(3 * time.Minute)
	c := e.through(t, shape{reply: func(_, in map[string]any) {
		numbers(in, "retcode", "expires_in")
		in["errmsg"] = nil
		in["scope"], in["refresh_token"] = "all", nil
	}})
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, tok.ExpiresIn, `"expires_in": 7200`)
	_, err = e.c.QueryCard(t.Context(), tok.Value, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
	assert.NoError(t, err, "the token is the simulator's")
}

func TestReplyShapesQueryCard(t *testing.T) {
	t.Parallel()
	e := setup(t)
	q := onecard.CardQuery{IDType: "sno", ID: "2024000004", GetMerge: true}
	want, err := e.c.QueryCard(t.Context(), e.tok, q)
	require.NoError(t, err)
	require.Len(t, want, 2)

	// A card as a public SDK models it: every flag and amount a number,
	// and the fields of newer platforms beside the spec's.
	public := func(_, in map[string]any) {
		numbers(in, "retcode")
		for _, c := range in["card"].([]any) {
			card := c.(map[string]any)
			numbers(card, "account", "db_balance", "unsettle_amount", "lostflag", "freezeflag", "idflag", "barflag",
				"createdate", "expdate", "cardtype", "sno", "phone", "autotrans_limite", "autotrans_amt",
				"autotrans_flag", "mscard", "scard_num", "merge_flag")
			card["accinfo"] = []any{map[string]any{"type": "###", "name": "卡账户", "balance": card["db_balance"]},
				map[string]any{"type": "001", "name": "补助", "balance": num("1234")}}
			card["cardid"], card["schcode"], card["sex"] = num("3197650004"), "0001", num("1")
			card["elec_accamt"], card["merge_accamt"], card["acc_status"] = "12.34", num("0"), num("1")
			card["photo"] = map[string]any{"url": nil}
		}
		in["total"] = num("2")
	}
	tests := []struct {
		name  string
		shape shape
	}{
		{"numbers and unknown fields", shape{reply: public}},
		{"one card as an object", shape{reply: func(outer, in map[string]any) {
			public(outer, in)
			in["card"] = in["card"].([]any)[0]
		}}},
		{"another top-level key", shape{reply: func(outer, in map[string]any) {
			public(outer, in)
			outer["trace"] = map[string]any{"id": num("7")}
		}}},
		{"signed envelope fields", shape{reply: public, envelope: map[string]string{"sign_type": "RSA", "charset": "UTF-8"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.through(t, tt.shape).QueryCard(t.Context(), e.tok, q)
			require.NoError(t, err)
			assert.Equal(t, want[:len(got)], got, "the same cards whichever way they are written")
			assert.Equal(t, money.Fen(50_00), got[0].Balance, `"db_balance": 5000`)
			assert.True(t, got[0].Lost, `"lostflag": 1`)
		})
	}
}

func TestReplyShapesPayAndRefund(t *testing.T) {
	t.Parallel()
	e := setup(t)
	outIDs := make(chan string, 2) // the out_id each reply carried, from the proxy's goroutine
	public := func(amount string) shape {
		return shape{reply: func(_, in map[string]any) {
			numbers(in, "retcode", "account", "mercacc", "out_id")
			outIDs <- in["out_id"].(json.Number).String()
			in["tranamt"] = num(amount)
			in["errmsg"] = nil
			in["balance"], in["paytime"] = num("8750"), num("20240512100000")
		}}
	}
	p, err := e.through(t, public("12.5")).Pay(t.Context(), e.tok, payReq("RS-1", sim.DemoNormal, 12_50))
	require.NoError(t, err)
	assert.Equal(t, money.Fen(12_50), p.Amount, `"tranamt": 12.5`)
	assert.Equal(t, sim.DemoNormal, p.Account, `"account": 100001`)
	assert.Equal(t, <-outIDs, p.OutID, "an 18-digit out_id keeps every digit")
	assert.Len(t, p.OutID, 18)

	r, err := e.through(t, public("5")).Refund(t.Context(), e.tok, refundReq("RS-R1", "RS-1", sim.DemoNormal, 5_00))
	require.NoError(t, err)
	assert.Equal(t, money.Fen(5_00), r.Amount, `"tranamt": 5`)
	assert.Equal(t, "RS-1", r.RefundOrderNo)
	assert.Equal(t, money.Fen(100_00-12_50+5_00), e.balance(t, sim.DemoNormal))

	// A decline written as numbers is still a decline, with its code.
	_, err = e.through(t, shape{reply: func(_, in map[string]any) { numbers(in, "retcode") }}).
		Pay(t.Context(), e.tok, payReq("RS-1", sim.DemoNormal, 1_00))
	requireBusiness(t, err, onecard.RetcodeDuplicateOrder)
}

func TestReplyShapesPayQuery(t *testing.T) {
	t.Parallel()
	e := setup(t)
	paid := e.mustPay(t, "RQ-1", sim.DemoNormal, 12_50)
	c := e.through(t, shape{reply: func(_, in map[string]any) {
		numbers(in, "retcode")
		in["total"] = num("2")
		for _, it := range in["pay_querys"].([]any) {
			item := it.(map[string]any)
			numbers(item, "retcode", "order_status", "tranamt", "account", "out_id")
			item["paytime"] = num("20240512100000")
		}
	}})
	got, err := c.QueryPayments(t.Context(), e.tok, []onecard.PayQuery{
		{Account: sim.DemoNormal, AccType: "###", OrderNo: "RQ-1"},
		{Account: sim.DemoNormal, AccType: "###", OrderNo: "RQ-NONE"},
	})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, onecard.StatusPaid, got[0].Status, `"order_status": 60`)
	assert.Equal(t, money.Fen(12_50), got[0].Amount, `"tranamt": 12.50`)
	assert.Equal(t, paid.OutID, got[0].OutID)
	assert.Equal(t, "0", got[0].Retcode)
	assert.Equal(t, onecard.StatusNoOrder, got[1].Status)
}

// TestReplyShapesStayStrict: tolerance stops where the reply would be
// guessed at: an amount that is not exactly fen, a fen field with a
// fraction, a code that is not a whole number, an envelope field the
// signature does not cover. Each is an undecodable (or untrusted) reply,
// whose outcome stays open; none is a success or a decline.
func TestReplyShapesStayStrict(t *testing.T) {
	t.Parallel()
	e := setup(t)
	set := func(name string, v any) shape {
		return shape{reply: func(_, in map[string]any) { in[name] = v }}
	}
	card := func(name string, v any) shape {
		return shape{reply: func(_, in map[string]any) {
			in["card"].([]any)[0].(map[string]any)[name] = v
		}}
	}
	pay := func(t *testing.T, c *onecard.Client, orderNo string) error {
		_, err := c.Pay(t.Context(), e.tok, payReq(orderNo, sim.DemoRich, 12_50))
		return err
	}
	query := func(t *testing.T, c *onecard.Client, _ string) error {
		_, err := c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
		return err
	}
	status := func(t *testing.T, c *onecard.Client, _ string) error {
		_, err := c.QueryPayments(t.Context(), e.tok, []onecard.PayQuery{{Account: sim.DemoNormal, AccType: "###", OrderNo: "X"}})
		return err
	}
	tests := []struct {
		name  string
		shape shape
		call  func(*testing.T, *onecard.Client, string) error
		what  string
	}{
		{"tranamt with three decimals", set("tranamt", num("12.505")), pay, "tranamt"},
		{"tranamt 12.500", set("tranamt", num("12.500")), pay, "tranamt"},
		{"tranamt with an exponent", set("tranamt", num("1.25e1")), pay, "tranamt"},
		{"tranamt negative", set("tranamt", num("-12.5")), pay, "tranamt"},
		{"tranamt true", set("tranamt", true), pay, "reply fields"},
		{"tranamt an object", set("tranamt", map[string]any{"yuan": num("12.5")}), pay, "reply fields"},
		{"retcode 0.0", set("retcode", num("0.0")), pay, "reply JSON"},
		{"retcode 0e0", set("retcode", num("0e0")), pay, "reply JSON"},
		{"db_balance with a fraction", card("db_balance", num("100.5")), query, "db_balance"},
		{"db_balance in yuan", card("db_balance", "100.00"), query, "db_balance"},
		{"db_balance with an exponent", card("db_balance", num("1e4")), query, "db_balance"},
		{"order_status 6e1", shape{reply: func(_, in map[string]any) {
			in["pay_querys"].([]any)[0].(map[string]any)["order_status"] = num("6e1")
		}}, status, "reply fields"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(t, e.through(t, tt.shape), "SS-"+string(rune('A'+i)))
			requireDecodeError(t, err, tt.what)
		})
	}

	t.Run("envelope field outside the signature", func(t *testing.T) {
		c := e.through(t, shape{envelope: map[string]string{"balance": "99999"}, unsigned: true})
		err := pay(t, c, "SS-SIG")
		var se *onecard.SignatureError
		require.ErrorAs(t, err, &se)
		assert.True(t, onecard.OutcomeUnknown(err))
	})
	t.Run("the method's key missing", func(t *testing.T) {
		c := e.through(t, shape{reply: func(outer, in map[string]any) {
			outer["query_card"] = in
			delete(outer, "gdccard_pay")
		}})
		requireDecodeError(t, pay(t, c, "SS-KEY"), "reply JSON")
	})
}
