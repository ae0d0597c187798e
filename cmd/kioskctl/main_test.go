package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary act as kioskctl in a child process, so that
// a test can run it with another environment (TZ=UTC) without building it.
func TestMain(m *testing.M) {
	if os.Getenv("KIOSKCTL_TEST_AS_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

type env struct {
	simulator *sim.Server
	config    string
}

// newEnv starts a simulator with the TEST-ONLY keys and writes a kiosk
// config for it, keys and store in a temp dir. modes change the
// simulator's options (its field variations).
func newEnv(t *testing.T, modes ...func(*sim.Options)) *env {
	t.Helper()
	simulator := sim.NewServer(simOptions(modes...))
	t.Cleanup(simulator.Close)
	return &env{simulator: simulator, config: onecardtest.WriteKioskConfig(t, t.TempDir(), simulator, "1s", "")}
}

// simOptions are the simulator's options with the TEST-ONLY keys, changed
// by modes.
func simOptions(modes ...func(*sim.Options)) sim.Options {
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	opts := sim.Options{
		AppKey: onecardtest.TestAppKey, AppSecret: secret,
		ClientKey: &clientPriv.PublicKey, PlatformKey: platformPriv,
	}
	for _, m := range modes {
		m(&opts)
	}
	return opts
}

// kioskctl runs the command in-process and returns exit status and output.
func (e *env) kioskctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"--config", e.config}, args...), &out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// jsonRun runs with --json and decodes the one object printed.
func (e *env) jsonRun(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	code, out, errOut := e.kioskctl(t, append([]string{"--json"}, args...)...)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &obj), "stdout %q stderr %q", out, errOut)
	return code, obj
}

func TestAllSixCalls(t *testing.T) {
	e := newEnv(t)

	code, tok := e.jsonRun(t, "token")
	require.Equal(t, exitOK, code)
	assert.Contains(t, tok, "expires")
	assert.NotContains(t, fmt.Sprint(tok), "access_token")

	code, cards := e.jsonRun(t, "card", "--idtype", "sno", "--id", "2024000001")
	require.Equal(t, exitOK, code)
	list := cards["cards"].([]any)
	require.Len(t, list, 1)
	assert.Equal(t, sim.DemoNormal, list[0].(map[string]any)["account"])
	assert.Equal(t, "100.00", list[0].(map[string]any)["balance"])

	code, pay := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", "12.34")
	require.Equal(t, exitOK, code)
	assert.Equal(t, "paid", pay["state"])
	orderNo := pay["order_no"].(string)
	assert.NotEmpty(t, pay["out_id"])
	bal, _ := e.simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-12_34), bal)

	code, refund := e.jsonRun(t, "refund", "--order-no", orderNo, "--amount", "2.34")
	require.Equal(t, exitOK, code)
	assert.Equal(t, "paid", refund["state"])
	assert.Equal(t, orderNo, refund["refund_order_no"])

	code, q := e.jsonRun(t, "query", orderNo, refund["order_no"].(string))
	require.Equal(t, exitOK, code)
	orders := q["orders"].([]any)
	require.Len(t, orders, 2)
	assert.Equal(t, "60", orders[0].(map[string]any)["order_status"])

	day := e.simulator.Now().In(e.simulator.Location()).Format(onecard.BillDateLayout)
	out := filepath.Join(t.TempDir(), "bill.txt")
	code, bill := e.jsonRun(t, "bill", "--date", day, "--crypt", "1", "--out", out)
	require.Equal(t, exitOK, code)
	assert.EqualValues(t, 2, bill["count"])
	text, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(text), "#"), "decrypted bill text was written")
	assert.Contains(t, string(text), orderNo)

	// The token was fetched once and reused by every later run.
	assert.Equal(t, 1, e.simulator.Stats().TokenCalls)
}

func TestExitStatus(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"declined: insufficient balance", []string{"pay", "--account", sim.DemoLow, "--amount", "0.51"}, exitDeclined},
		{"declined: lost card", []string{"pay", "--account", sim.DemoLost, "--amount", "1"}, exitDeclined},
		{"amount with three decimals", []string{"pay", "--account", sim.DemoNormal, "--amount", "0.001"}, exitUsage},
		{"negative amount", []string{"pay", "--account", sim.DemoNormal, "--amount", "-1"}, exitUsage},
		{"zero amount", []string{"pay", "--account", sim.DemoNormal, "--amount", "0"}, exitUsage},
		{"over-long account", []string{"pay", "--account", "12345678901", "--amount", "1"}, exitUsage},
		{"unknown idtype", []string{"card", "--idtype", "email", "--id", "x"}, exitUsage},
		{"unknown command", []string{"teleport"}, exitUsage},
		{"refund of an unknown order", []string{"refund", "--order-no", "nope", "--amount", "1"}, exitUsage},
		{"query of an unknown order without account", []string{"query", "nope"}, exitUsage},
		{"bad bill date", []string{"bill", "--date", "2026-11-27"}, exitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := e.kioskctl(t, c.args...)
			assert.Equal(t, c.want, code, stderr)
		})
	}
	bal, _ := e.simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal, "nothing was charged")
}

func TestOutcomeUnknownExitsThree(t *testing.T) {
	e := newEnv(t)
	e.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	code, obj := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", "5")
	assert.Equal(t, exitUnknown, code)
	assert.Equal(t, "unknown", obj["state"])
	assert.Equal(t, "unknown", obj["outcome"])
	orderNo := obj["order_no"].(string)

	code, q := e.jsonRun(t, "query", orderNo)
	require.Equal(t, exitOK, code)
	assert.Equal(t, "60", q["orders"].([]any)[0].(map[string]any)["order_status"])
	assert.Equal(t, "unknown", q["orders"].([]any)[0].(map[string]any)["local_state"], "a query only reports")

	// reconcile settles it once the request's timeout (1s) has passed.
	require.Eventually(t, func() bool {
		code, rec := e.jsonRun(t, "reconcile")
		return code == exitOK && len(rec["settled"].([]any)) == 1
	}, 10*time.Second, 100*time.Millisecond)
	code, queue := e.jsonRun(t, "queue", "--state", "paid")
	require.Equal(t, exitOK, code)
	assert.Equal(t, orderNo, queue["orders"].([]any)[0].(map[string]any)["order_no"])
}

func TestConfigErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "kiosk.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("platform:\n  url: http://127.0.0.1:1/tsm\n  app_secret: c2hvcnQ=\n"), 0o600))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--config", bad, "token"}, &out, &errOut, func(string) string { return "" })
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut.String(), "platform.app_secret")
	assert.NotContains(t, errOut.String(), "c2hvcnQ=", "secrets are never printed")

	code = run(context.Background(), []string{"token"}, &out, &errOut, func(k string) string {
		if k == "KIOSK_CONFIG" {
			return filepath.Join(dir, "missing.yaml")
		}
		return ""
	})
	assert.Equal(t, exitUsage, code)
}

// The platform's zone, not the machine's, decides the timestamp: a kioskctl
// process running with TZ=UTC must be accepted by a platform in
// Asia/Shanghai (8 hours apart, far beyond the 6-minute window).
func TestRunsUnderTZUTC(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"token"}, {"pay", "--account", sim.DemoNormal, "--amount", "1.00"}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"--config", e.config, "--json"}, args...)...)
		cmd.Env = append(os.Environ(), "KIOSKCTL_TEST_AS_MAIN=1", "TZ=UTC")
		out, err := cmd.CombinedOutput()
		cancel()
		require.NoError(t, err, "%s", out)
		assert.NotContains(t, string(out), "40018")
	}
	bal, _ := e.simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(99_00), bal)
}

// --verbose logs the order's life and the calls on stderr, masked, and
// leaves stdout to the command's JSON.
func TestVerboseLogsTheOrderOnStderr(t *testing.T) {
	e := newEnv(t)
	code, out, errOut := e.kioskctl(t, "--json", "--verbose", "pay", "--account", sim.DemoNormal, "--amount", "5")
	require.Equal(t, exitOK, code, errOut)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &obj), "stdout is only the JSON")
	orderNo := obj["order_no"].(string)
	assert.Contains(t, errOut, "order_no="+orderNo)
	assert.Contains(t, errOut, "to=paid")
	assert.Contains(t, errOut, "method=synjones.onecard.gdccard.pay")
	assert.NotContains(t, errOut, sim.DemoNormal, "the account is masked")

	_, _, quiet := e.kioskctl(t, "pay", "--account", sim.DemoNormal, "--amount", "5")
	assert.NotContains(t, quiet, "order_no=", "without --verbose, no log")
}
