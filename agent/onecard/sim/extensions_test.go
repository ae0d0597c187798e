package sim_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// These tests check what the simulator does beyond v2.42 when it is not
// strict (the default of sim.Options, off in onecardtest.NewTestPair):
// the query.card extensions are answered, other unknown fields ignored
// and logged.

// lenient turns off the strictness NewTestPair turns on.
func lenient(o *sim.Options) { o.Strict = false }

// logLines collects the simulator's log; the server writes it from its own
// goroutines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) option(o *sim.Options) {
	o.Logf = func(format string, args ...any) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, fmt.Sprintf(format, args...))
	}
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// allExtensions is query.card as the public SDK sends it: every extension
// and get_merge set to "1".
func allExtensions(idtype, id string) map[string]string {
	return map[string]string{"idtype": idtype, "id": id, "get_merge": "1",
		sim.ExtIdentity: "1", sim.ExtAccounts: "1", sim.ExtSchCode: "1", sim.ExtCardID: "1"}
}

func TestQueryCardExtensions(t *testing.T) {
	t.Parallel()
	var log logLines
	r := newRig(t, lenient, log.option)
	got := r.send(t, r.form(t, onecard.MethodQueryCard, allExtensions("acc", sim.DemoNormal)))
	require.Equal(t, "0", got.errcode)
	require.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])
	cards, ok := got.inner["card"].([]any)
	require.True(t, ok, "card is an array")
	require.Len(t, cards, 1)
	card := cards[0].(map[string]any)

	assert.Equal(t, "3197650001", card["cardid"], "getcardid")
	assert.Equal(t, "0001", card["schcode"], "getschcode: the default accounting unit")
	assert.Equal(t, map[string]any{"sex": "1", "deptcode": "0301", "deptname": "计算机学院", "pidcode": "1", "pidname": "本科生"},
		map[string]any{"sex": card["sex"], "deptcode": card["deptcode"], "deptname": card["deptname"],
			"pidcode": card["pidcode"], "pidname": card["pidname"]}, "get_idinfo")
	assert.Equal(t, []any{map[string]any{
		"type": "###", "name": "卡账户", "balance": "10000",
		"autotrans_limite": "0", "autotrans_amt": "0", "autotrans_flag": "0",
	}}, card["accinfo"], "get_accinfo: the card account, balance in fen")
	assert.Equal(t, "0", card["merge_flag"], "get_merge is the spec's own")
	assert.Equal(t, "10000", card["db_balance"], "the spec's fields are all there")
	assert.Contains(t, log.String(), "answered get_idinfo, get_accinfo, getschcode, getcardid, beyond v2.42")

	// "0" asks for nothing more: the reply is the spec's.
	off := map[string]string{"idtype": "acc", "id": sim.DemoLow,
		sim.ExtIdentity: "0", sim.ExtAccounts: "0", sim.ExtSchCode: "0", sim.ExtCardID: "0"}
	got = r.send(t, r.form(t, onecard.MethodQueryCard, off))
	require.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])
	card = got.inner["card"].([]any)[0].(map[string]any)
	for _, k := range []string{"cardid", "schcode", "sex", "deptcode", "deptname", "pidcode", "pidname", "accinfo", "merge_flag"} {
		assert.NotContains(t, card, k)
	}

	// A card without identity fields answers them empty, as 可空 fields are.
	got = r.send(t, r.form(t, onecard.MethodQueryCard, allExtensions("acc", sim.DemoLow)))
	card = got.inner["card"].([]any)[0].(map[string]any)
	assert.Equal(t, "", card["sex"])
	assert.Equal(t, "", card["deptname"])
	assert.Equal(t, "50", card["accinfo"].([]any)[0].(map[string]any)["balance"])

	// Every card of the identity carries them.
	got = r.send(t, r.form(t, onecard.MethodQueryCard, allExtensions("sno", "2024000004")))
	cards = got.inner["card"].([]any)
	require.Len(t, cards, 2)
	assert.Equal(t, "3197650004", cards[0].(map[string]any)["cardid"])
	assert.Equal(t, "3197650006", cards[1].(map[string]any)["cardid"])
}

// TestExtensionValues: the extensions are read like get_merge, so a value
// outside 0 and 1, or one that is not a JSON string, is a bad field even
// when the simulator is tolerant.
func TestExtensionValues(t *testing.T) {
	t.Parallel()
	r := newRig(t, lenient)
	for _, ext := range []string{sim.ExtIdentity, sim.ExtAccounts, sim.ExtSchCode, sim.ExtCardID} {
		for _, v := range []any{"2", "yes", 1, true} {
			t.Run(fmt.Sprintf("%s=%v", ext, v), func(t *testing.T) {
				got := r.send(t, r.form(t, onecard.MethodQueryCard, map[string]any{"idtype": "acc", "id": sim.DemoNormal, ext: v}))
				assert.Equal(t, sim.RetcodeBadField, got.inner["retcode"])
				assert.Contains(t, got.inner["errmsg"], ext)
			})
		}
	}
}

// TestUnknownFieldsIgnored: a tolerant simulator processes a request with
// fields the spec does not list as if they were absent, and names them in
// the log.
func TestUnknownFieldsIgnored(t *testing.T) {
	t.Parallel()
	var log logLines
	r := newRig(t, lenient, log.option)
	pay := map[string]any{"account": sim.DemoNormal, "tranamt": "1.00", "acctype": "###", "mercacc": "100000",
		"order_no": "U-1", "currency": "CNY", "device": map[string]string{"id": "7"}}
	got := r.send(t, r.form(t, onecard.MethodPay, pay))
	require.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])
	assert.Equal(t, 1, r.srv.Stats().Charges)

	queries := map[string]any{"page": "1", "pay_queries": []map[string]string{
		{"account": sim.DemoNormal, "acctype": "###", "order_no": "U-1", "mercacc": "100000"},
	}}
	got = r.send(t, r.form(t, onecard.MethodPayQuery, queries))
	require.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])
	assert.Equal(t, "60", got.inner["pay_querys"].([]any)[0].(map[string]any)["order_status"])

	got = r.send(t, r.form(t, onecard.MethodQueryCard, map[string]string{"idtype": "acc", "id": sim.DemoNormal, "lang": "en"}))
	require.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])

	lines := log.String()
	assert.Contains(t, lines, `synjones.onecard.gdccard.pay errcode 0 retcode 0 (ignored fields v2.42 does not list: "currency", "device")`)
	assert.Contains(t, lines, `(ignored fields v2.42 does not list: "page", "pay_queries[0].mercacc")`)
	assert.Contains(t, lines, `(ignored fields v2.42 does not list: "lang")`)

	// What the spec lists is as strict as ever.
	pay["order_no"], pay["tranamt"] = "U-2", 1
	got = r.send(t, r.form(t, onecard.MethodPay, pay))
	assert.Equal(t, sim.RetcodeBadField, got.inner["retcode"])
	assert.Contains(t, got.inner["errmsg"], "tranamt must be a JSON string")
}

// TestUnknownFieldsLogBounded: a log line names a few ignored fields, not
// a batch's worth, and quotes them, so that a name cannot forge a line.
func TestUnknownFieldsLogBounded(t *testing.T) {
	t.Parallel()
	var log logLines
	r := newRig(t, lenient, log.option)
	items := make([]map[string]string, 8)
	for i := range items {
		items[i] = map[string]string{"account": sim.DemoNormal, "acctype": "###", "order_no": fmt.Sprint("B-", i), "x\ny": "1"}
	}
	got := r.send(t, r.form(t, onecard.MethodPayQuery, map[string]any{"pay_queries": items}))
	require.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])
	lines := log.String()
	assert.Contains(t, lines, `"pay_queries[4].x\ny" … (8 in all)`)
	assert.NotContains(t, lines, `pay_queries[5]`)
}

// TestStrictRefusesWhatTolerantIgnores: under Options.Strict every field
// v2.42 does not list, the extensions included, is refused and changes
// nothing.
func TestStrictRefusesWhatTolerantIgnores(t *testing.T) {
	t.Parallel()
	r := newRig(t) // NewTestPair's default
	tests := []struct {
		name   string
		method string
		params any
		field  string
	}{
		{"query.card as the public SDK sends it", onecard.MethodQueryCard, allExtensions("acc", sim.DemoNormal), sim.ExtAccounts},
		{"getcardid alone", onecard.MethodQueryCard, map[string]string{"idtype": "acc", "id": sim.DemoNormal, sim.ExtCardID: "1"}, sim.ExtCardID},
		{"pay with currency", onecard.MethodPay, map[string]string{"account": sim.DemoNormal, "tranamt": "1.00", "acctype": "###",
			"mercacc": "100000", "order_no": "ST-1", "currency": "CNY"}, "currency"},
		{"token with scope", onecard.MethodAccessToken, map[string]string{"scope": "all"}, "scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.send(t, r.form(t, tt.method, tt.params))
			require.Equal(t, "0", got.errcode)
			assert.Equal(t, sim.RetcodeBadField, got.inner["retcode"])
			assert.Contains(t, got.inner["errmsg"], fmt.Sprintf("unknown field %q", tt.field))
		})
	}
	assert.Empty(t, r.srv.Transactions())
}
