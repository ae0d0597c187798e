package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/demo"
	"github.com/campuspos/kiosk/cmd/internal/syncbuf"
)

// admin calls an admin endpoint of a running simulator and decodes its
// JSON answer into out.
func admin(t *testing.T, simulator *started, method, name string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, strings.TrimSuffix(simulator.url, "/tsm")+sim.AdminPrefix+name, nil)
	require.NoError(t, err)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}

// simClient is a client of a running simulator with the app key "k" and
// the TEST-ONLY keys, and its first token.
func simClient(t *testing.T, simulator *started) (*onecard.Client, onecard.AccessToken) {
	t.Helper()
	clientKey, platformKey, appSecret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(appSecret)
	require.NoError(t, err)
	loc, err := time.LoadLocation(demo.DefaultTimezone)
	require.NoError(t, err)
	c, err := onecard.New(onecard.Config{URL: simulator.url, AppKey: "k", Cipher: cipher, PrivateKey: clientKey, PlatformKey: &platformKey.PublicKey, Location: loc})
	require.NoError(t, err)
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	return c, tok
}

func TestFieldVariationFlags(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, platformPriv := writeTestKeys(t, dir)
	simulator := start(t, "--listen", "127.0.0.1:0", "--app-key", "k", "--app-secret-file", secret,
		"--client-public-key", clientPub, "--platform-private-key", platformPriv,
		"--refunds-uncapped", "--query-forgets-refunds", "--duplicate-reply", "replay",
		"--hold-fraction", "1", "--hold-for", "1h", "--hold-seed", "3")
	assert.Contains(t, simulator.stderr.String(), "field variations: refunds uncapped; pay.query forgets refunds; holding 1 of pays and refunds for 1h0m0s (seed 3); reused order_no answered with replay")

	c, tok := simClient(t, simulator)
	status := func(orderNo string) onecard.OrderStatus {
		t.Helper()
		sts, err := c.QueryPayments(t.Context(), tok.Value, []onecard.PayQuery{{Account: sim.DemoNormal, AccType: "###", OrderNo: orderNo}})
		require.NoError(t, err)
		return sts[0].Status
	}
	release := func(want int) {
		t.Helper()
		var held map[string]int
		admin(t, simulator, http.MethodGet, "held", &held)
		assert.Equal(t, map[string]int{"held": want}, held)
		var got map[string]int
		admin(t, simulator, http.MethodPost, "held/release", &got)
		assert.Equal(t, map[string]int{"released": want, "held": 0}, got)
	}

	// --hold-fraction 1: the payment is held, the query overtakes it.
	_, err := c.Pay(t.Context(), tok.Value, onecard.PayRequest{OrderNo: "F-1", Account: sim.DemoNormal, AccType: "###", MercAcc: "100000", Amount: 10_00})
	assert.True(t, onecard.OutcomeUnknown(err), "%v", err)
	assert.Equal(t, onecard.StatusNoOrder, status("F-1"))
	release(1)
	assert.Equal(t, onecard.StatusPaid, status("F-1"))

	// --refunds-uncapped, --query-forgets-refunds, --duplicate-reply replay.
	refund := onecard.RefundRequest{OrderNo: "F-R1", RefundOrderNo: "F-1", Account: sim.DemoNormal, AccType: "###", MercAcc: "100000", Amount: 12_00}
	for range 2 {
		_, err = c.Refund(t.Context(), tok.Value, refund)
		assert.True(t, onecard.OutcomeUnknown(err), "%v", err)
		release(1)
	}
	assert.Equal(t, onecard.StatusNoOrder, status("F-R1"))
	var st sim.Stats
	admin(t, simulator, http.MethodGet, "stats", &st)
	assert.Equal(t, 1, st.OverRefunds)
	assert.Equal(t, 1, st.Replays, "the resent refund got its recorded outcome")
	assert.Equal(t, 3, st.ProcessedLate)
	var ledger struct {
		Balances []struct {
			Account    string    `json:"account"`
			BalanceFen money.Fen `json:"balance_fen"`
		} `json:"balances"`
	}
	admin(t, simulator, http.MethodGet, "ledger", &ledger)
	require.NotEmpty(t, ledger.Balances)
	assert.Equal(t, sim.DemoNormal, ledger.Balances[0].Account)
	assert.Equal(t, money.Fen(102_00), ledger.Balances[0].BalanceFen, "refunded once, beyond the payment")
	assert.Equal(t, exitOK, simulator.stop(), "a shutdown with nothing held")
}

func TestFieldVariationUsageErrors(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, _ := writeTestKeys(t, dir)
	keys := []string{"--app-key", "k", "--app-secret-file", secret, "--client-public-key", clientPub}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fraction over 1", []string{"--hold-fraction", "1.5", "--hold-for", "1s"}, "hold-fraction"},
		{"fraction not a number", []string{"--hold-fraction", "half", "--hold-for", "1s"}, "hold-fraction"},
		{"fraction NaN", []string{"--hold-fraction", "NaN", "--hold-for", "1s"}, "hold-fraction"},
		{"fraction without for", []string{"--hold-fraction", "0.5"}, "--hold-for"},
		{"for without fraction", []string{"--hold-for", "1s"}, "--hold-fraction"},
		{"seed without fraction", []string{"--hold-seed", "7"}, "--hold-fraction"},
		{"for zero", []string{"--hold-fraction", "0.5", "--hold-for", "0s"}, "hold-for"},
		{"for not a duration", []string{"--hold-fraction", "0.5", "--hold-for", "soon"}, "hold-for"},
		{"seed negative", []string{"--hold-fraction", "0.5", "--hold-for", "1s", "--hold-seed", "-1"}, "hold-seed"},
		{"unknown duplicate reply", []string{"--duplicate-reply", "60046"}, "duplicate-reply"},
		{"empty duplicate reply", []string{"--duplicate-reply", ""}, "duplicate-reply"},
		{"wrong password answered with success", []string{"--wrong-password-retcode", "0"}, "wrong-password-retcode"},
		{"empty wrong password retcode", []string{"--wrong-password-retcode", ""}, "wrong-password-retcode"},
		{"wrong password retcode not digits", []string{"--wrong-password-retcode", "pwd"}, "wrong-password-retcode"},
		{"uncapped with a value", []string{"--refunds-uncapped=maybe"}, "refunds-uncapped"},
		{"strict with a value", []string{"--strict=maybe"}, "strict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := &syncbuf.Buffer{}
			args := append(append(keys[:len(keys):len(keys)], tt.args...), "--listen", "127.0.0.1:0")
			code := run(context.Background(), args, &syncbuf.Buffer{}, stderr, func(string) {
				t.Error("served despite a usage error")
			})
			assert.Equal(t, exitUsage, code, stderr.String())
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

func TestFieldVariationDefaults(t *testing.T) {
	var m modeFlags
	var o sim.Options
	m.apply(&o)
	assert.Equal(t, sim.Options{}, o, "no flag, no variation")
	assert.Empty(t, m.String())

	// A zero fraction is off, and needs no --hold-for.
	f, err := parseFlags([]string{"--hold-fraction", "0", "--duplicate-reply", "60070"}, &bytes.Buffer{})
	require.NoError(t, err)
	f.modes.apply(&o)
	assert.Equal(t, sim.HoldPolicy{}, o.Hold)
	assert.Equal(t, onecard.RetcodeOrderExists, o.DuplicateReply)
	assert.Equal(t, "reused order_no answered with 60070", f.modes.String())

	// --strict is the conformance switch, not a field variation.
	f, err = parseFlags([]string{"--strict"}, &bytes.Buffer{})
	require.NoError(t, err)
	o = sim.Options{}
	f.modes.apply(&o)
	assert.True(t, o.Strict)
	assert.Empty(t, f.modes.String())
	f, err = parseFlags([]string{"--strict=false"}, &bytes.Buffer{})
	require.NoError(t, err)
	o = sim.Options{Strict: true}
	f.modes.apply(&o)
	assert.False(t, o.Strict, "a flag given overrides")
}

func TestHelpFieldVariations(t *testing.T) {
	var stdout bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"--help"}, &stdout, &syncbuf.Buffer{}, nil))
	for _, f := range []string{"--strict", "--refunds-uncapped", "--query-forgets-refunds", "--hold-fraction", "--hold-for", "--hold-seed",
		"--duplicate-reply", "--wrong-password-retcode", "/_sim/held", "/_sim/held/release"} {
		assert.Contains(t, stdout.String(), f)
	}
}

// --wrong-password-retcode answers a wrong card password with its retcode;
// /_sim/stats counts the checks, and neither the request log (-v) nor the
// card list at start-up shows a password.
func TestWrongPasswordRetcodeFlag(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, platformPriv := writeTestKeys(t, dir)
	simulator := start(t, "--listen", "127.0.0.1:0", "--app-key", "k", "--app-secret-file", secret,
		"--client-public-key", clientPub, "--platform-private-key", platformPriv, "-v", "--wrong-password-retcode", "60099")
	assert.Contains(t, simulator.stderr.String(), "wrong card password answered with 60099")

	c, tok := simClient(t, simulator)

	cards, err := c.QueryCard(t.Context(), tok.Value, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal, Password: sim.DemoNormalPassword})
	require.NoError(t, err)
	assert.Len(t, cards, 1)
	_, err = c.QueryCard(t.Context(), tok.Value, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal, Password: "987654"})
	assert.Equal(t, "60099", onecard.ErrorCode(err), "%v", err)

	var st sim.Stats
	admin(t, simulator, http.MethodGet, "stats", &st)
	assert.Equal(t, 2, st.PasswordChecks)
	assert.Equal(t, 1, st.PasswordFailures)
	assert.Equal(t, exitOK, simulator.stop())
	logged := simulator.stderr.String()
	assert.Contains(t, logged, "retcode 60099 (wrong pwd)")
	assert.Contains(t, logged, "password set")
	for _, c := range sim.DemoCards() {
		assert.NotContains(t, logged, c.Password)
	}
	assert.NotContains(t, logged, "987654")
}
