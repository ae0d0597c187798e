package logging_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/logging"
)

// The agent wired with the hooks, against the simulator: a payment whose
// reply is lost, then reconciled. The log filtered by order_no is the
// order's whole life, and nowhere in the log is a card number, a name, the
// token or the app secret — not even where the test logs the card, the
// query and the whole configuration itself.
func TestAppOrderLife(t *testing.T) {
	clock := onecardtest.NewClock(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	simulator := sim.NewServer(sim.Options{
		AppKey: onecardtest.TestAppKey, AppSecret: secret,
		ClientKey: &clientPriv.PublicKey, PlatformKey: platformPriv, Now: clock.Now,
	})
	t.Cleanup(simulator.Close)
	cfg, err := config.Load(onecardtest.WriteKioskConfig(t, t.TempDir(), simulator, "2s", ""))
	require.NoError(t, err)
	require.Equal(t, secret, cfg.Platform.Secrets.AppSecret())

	// Every hook runs on the goroutine that called the agent (no
	// reconciler runs here), so a plain buffer will do; -race would say
	// otherwise.
	var out bytes.Buffer
	log, err := logging.New(&out, config.Log{Format: config.LogJSON, Level: "debug"})
	require.NoError(t, err)
	hooks := logging.NewOrderLog(log)
	a, err := app.OpenWith(cfg, clock, app.Hooks{Order: hooks.Order, Call: hooks.Call})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	ctx := context.Background()
	svc := a.Service

	q := agent.Identity{Type: "cardid", ID: "3197650001"}
	cards, err := svc.QueryCard(ctx, q)
	require.NoError(t, err)
	require.Len(t, cards, 1)
	log.Info("card presented", "query", q, "card", cards[0], "config", cfg)

	simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	o, err := svc.Pay(ctx, agent.PayInput{Account: cards[0].Account, Amount: 1234})
	require.True(t, onecard.OutcomeUnknown(err), "%v", err)
	clock.Advance(3 * cfg.Platform.Timeout)
	_, err = svc.ReconcileAll(ctx)
	require.NoError(t, err)
	got, err := a.Store.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, got.State)
	tok, ok, err := a.Store.LoadToken(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotEmpty(t, tok.Value)

	text := out.String()
	var life []any
	var sawLostReply bool
	for _, r := range records(t, text) {
		if r["msg"] == logging.MsgCall && r["method"] == onecard.MethodPay && r["result"] == "unknown" {
			sawLostReply = r["level"] == "WARN"
		}
		if r["order_no"] != o.OrderNo || r["level"] == "DEBUG" {
			continue
		}
		assert.Equal(t, "12.34", r["amount"])
		assert.Equal(t, "**0001", r["account"])
		life = append(life, r["to"])
	}
	assert.Equal(t, []any{"sending", "unknown", "paid"}, life)
	assert.True(t, sawLostReply, "the lost reply is a warning")

	for what, secret := range map[string]string{
		"account": cards[0].Account, "card id": q.ID, "sno": "2024000001", "phone": "13800000001", "name": "张三",
		"token": tok.Value, "app secret": secret,
	} {
		assert.NotContains(t, text, secret, "the log shows the %s", what)
	}
}
