package status_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/status"
	"github.com/campuspos/kiosk/device"
)

// documentKeys are /status's keys, as clients (kioskctl) read them.
func documentKeys() []string {
	return []string{"time", "version", "go_version", "mode", "termid", "status", "reasons", "online", "online_since",
		"token", "clock_offset", "unfinished", "oldest_unfinished", "needs_review", "offline", "devices",
		"last_reconcile", "settlement", "journal", "errors"}
}

// status fetches and decodes /status, checking on the way that none of its
// strings holds a card's number or holder.
func (r *rig) status(tb testing.TB) status.Document {
	tb.Helper()
	resp, body := r.get(tb, "/status", "")
	require.Equal(tb, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(tb, "application/json", resp.Header.Get("Content-Type"))
	var d status.Document
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	require.NoError(tb, dec.Decode(&d), "%s", body)
	var raw map[string]any
	require.NoError(tb, json.Unmarshal(body, &raw))
	for k := range raw {
		assert.Contains(tb, documentKeys(), k)
	}
	for _, k := range documentKeys() {
		if k != "errors" { // omitted when empty
			assert.Contains(tb, raw, k)
		}
	}
	for _, s := range jsonStrings(raw) {
		for _, secret := range secrets() {
			assert.NotContains(tb, s, secret)
		}
	}
	return d
}

// jsonStrings lists every string, key or value, in a decoded JSON value.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(out, k)
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}

// orphan journals a payment left in sending by a process that died,
// created at created, past the hooks as that process wrote it.
func (r *rig) orphan(tb testing.TB, created time.Time) string {
	tb.Helper()
	ctx := tb.Context()
	no, err := r.app.Service.NewOrderNo(ctx)
	require.NoError(tb, err)
	require.NoError(tb, r.app.Store.CreateOrder(ctx, agent.Order{
		OrderNo: no, Kind: agent.KindPay, Account: sim.DemoNormal, AccType: onecard.AccTypeCard,
		MercAcc: "100000", TermID: "17", Amount: 5_00, Created: created, Updated: created, State: agent.StateSending,
		Attempts: 1, History: []agent.Transition{{At: created, To: agent.StateSending}},
	}))
	return no
}

func TestHealthzReady(t *testing.T) {
	r := newRig(t, rigOptions{})
	_, err := r.app.Service.QueryCard(t.Context(), agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	code, h := r.health(t)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, status.StatusReady, h.Status)
	assert.NotNil(t, h.Reasons, "an empty list, not null")
	assert.Empty(t, h.Reasons)
}

// Each reason of degradation shows, with its code, and the terminal is
// ready again once they are gone.
func TestHealthzDegraded(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()
	svc := r.app.Service

	// An order unsettled past reconcile.give_up_after (72h of the platform
	// answering) needs a person.
	no := r.orphan(t, time.Now().Add(-100*time.Hour))
	_, err := r.app.Store.UpdateOrder(ctx, no, func(o *agent.Order) error {
		o.OnlineAge = 100 * time.Hour
		return nil
	})
	require.NoError(t, err)
	rep, err := svc.ReconcileOnce(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Settled, 1)
	require.Equal(t, agent.StateNeedsReview, rep.Settled[0].To)
	code, h := r.health(t)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, status.StatusDegraded, h.Status)
	assert.Equal(t, []string{status.ReasonNeedsReview}, codes(h))
	assert.Contains(t, h.Reasons[0], "1 orders")

	// The platform's clock runs 4 minutes ahead: its next reply says so.
	r.simulator.SetClockOffset(4 * time.Minute)
	_, err = svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	r.setDevices(device.Status{Name: "reader", Connected: false, Since: time.Now(), LastError: "no such device"})
	// Then it goes away.
	r.unplug()
	_, err = svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.Error(t, err)

	code, h = r.health(t)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.ElementsMatch(t, []string{status.ReasonPlatformOffline, status.ReasonDeviceDisconnected,
		status.ReasonNeedsReview, status.ReasonClockOffset}, codes(h))
	assert.Regexp(t, `clock_offset: .* \+2(39|40|41)s off`, strings.Join(h.Reasons, "\n"), "4m, to the Date header's second")
	assert.Contains(t, strings.Join(h.Reasons, "\n"), "reader disconnected")

	f := r.scrape(t)
	assert.Equal(t, 1.0, f.value(t, "kiosk_needs_review_orders"))
	assert.Equal(t, 0.0, f.value(t, "kiosk_device_connected", "device", "reader"))
	assert.InDelta(t, 240.0, f.value(t, "kiosk_platform_clock_offset_seconds"), 5)

	st := r.status(t)
	assert.Equal(t, status.StatusDegraded, st.Status)
	assert.Len(t, st.Reasons, 4)
	require.NotNil(t, st.NeedsReview)
	assert.Equal(t, 1, *st.NeedsReview)
	assert.False(t, st.Online)
}

// A journal that cannot be read makes the terminal degraded, and the
// endpoint still answers.
func TestHealthzJournalUnreadable(t *testing.T) {
	r := newRig(t, rigOptions{})
	code, _ := r.health(t)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, r.app.Store.Close())

	code, h := r.health(t)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, []string{status.ReasonJournalUnreadable}, codes(h))

	f := r.scrape(t)
	assert.Equal(t, 0.0, f.value(t, "kiosk_journal_readable"))
	assert.NotContains(t, f, "kiosk_unfinished_orders", "nothing made up")

	st := r.status(t)
	assert.Nil(t, st.Unfinished)
	assert.Nil(t, st.Offline.Count)
	assert.NotEmpty(t, st.Errors)
}

func TestStatusDocument(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx := t.Context()
	svc := r.app.Service
	_, err := svc.QueryCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	_, err = svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 12_34})
	require.NoError(t, err)
	r.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	unknown, err := svc.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 1_00})
	require.Error(t, err)
	require.Equal(t, agent.StateUnknown, unknown.State)

	st := r.status(t)
	assert.Equal(t, testVersion, st.Version)
	assert.True(t, strings.HasPrefix(st.GoVersion, "go"))
	assert.Equal(t, config.ModeCanteen, st.Mode)
	assert.Equal(t, "17", st.TermID)
	assert.Equal(t, status.StatusReady, st.Status)
	assert.Empty(t, st.Reasons)
	assert.WithinDuration(t, time.Now(), st.Time, time.Minute)
	assert.True(t, st.Online)
	require.NotNil(t, st.Token)
	assert.True(t, st.Token.Expires.After(time.Now()))
	assert.Positive(t, st.Token.ExpiresInSeconds)
	require.NotNil(t, st.ClockOffset)
	assert.InDelta(t, 0, st.ClockOffset.Seconds, 5)

	assert.Equal(t, map[agent.OrderState]int{agent.StateSending: 0, agent.StateUnknown: 1, agent.StateOfflineAccepted: 0,
		agent.StateOrphanCharged: 0}, st.Unfinished)
	require.NotNil(t, st.OldestUnfinished)
	assert.True(t, st.OldestUnfinished.Equal(unknown.Created), "%s, want %s", st.OldestUnfinished, unknown.Created)
	require.NotNil(t, st.NeedsReview)
	assert.Zero(t, *st.NeedsReview)

	assert.True(t, st.Offline.Enabled)
	require.NotNil(t, st.Offline.Count)
	assert.Zero(t, *st.Offline.Count)
	require.NotNil(t, st.Offline.Amount)
	assert.Equal(t, "0.00", *st.Offline.Amount)
	assert.Equal(t, 50, st.Offline.MaxCount)
	assert.Equal(t, money.Fen(500_00).Yuan(), st.Offline.MaxTotal)
	assert.Equal(t, "30.00", st.Offline.MaxAmount)
	assert.Equal(t, "60.00", st.Offline.MaxPerCardDay)
	assert.Equal(t, (72 * time.Hour).String(), st.Offline.CardMaxAge)

	require.Len(t, st.Devices, 1)
	assert.Equal(t, "reader", st.Devices[0].Name)
	assert.True(t, st.Devices[0].Connected)

	assert.Nil(t, st.LastReconcile, "no reconciler pass yet")

	// A new terminal: no day of the window settled yet.
	assert.Equal(t, svc.Options().Settlement.Enabled, st.Settlement.Enabled)
	assert.Nil(t, st.Settlement.Last)
	require.Len(t, st.Settlement.Days, svc.Options().Settlement.CatchUpDays)
	yesterday := time.Now().In(svc.Location()).AddDate(0, 0, -1).Format("20060102")
	assert.Equal(t, yesterday, st.Settlement.Days[0].Date)
	assert.Equal(t, agent.SettlementPending, st.Settlement.Days[0].State)
	assert.Nil(t, st.Settlement.Days[0].FinishedAt)
	assert.Len(t, st.Settlement.Unsettled, svc.Options().Settlement.CatchUpDays)

	assert.Equal(t, r.app.Config.Store.Path, st.Journal.Path)
	require.NotNil(t, st.Journal.SizeBytes)
	assert.Positive(t, *st.Journal.SizeBytes)
	assert.Empty(t, st.Errors)
}

func TestBearerToken(t *testing.T) {
	const token = "s3cret-status-token-0123"
	r := newRig(t, rigOptions{token: token})

	for _, path := range []string{"/healthz", "/status", "/metrics", "/nowhere"} {
		resp, _ := r.get(t, path, "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		assert.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer "), path)
		assert.NotContains(t, resp.Header.Get("WWW-Authenticate"), "invalid_token", "no token given")

		resp, _ = r.get(t, path, token+"x")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`, path)
	}
	for _, path := range []string{"/healthz", "/status", "/metrics"} {
		resp, body := r.get(t, path, token)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
		assert.NotContains(t, string(body), token, "the token is never shown")
	}
	resp, _ := r.get(t, "/nowhere", token)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// The scheme's name is case-insensitive; other schemes are refused.
	for header, want := range map[string]int{
		"bearer " + token:         http.StatusOK,
		"Basic " + token:          http.StatusUnauthorized,
		"Bearer":                  http.StatusUnauthorized,
		"Bearer " + token[:10]:    http.StatusUnauthorized,
		token:                     http.StatusUnauthorized,
		"Bearer  " + token + "  ": http.StatusOK,
	} {
		req, err := http.NewRequest(http.MethodGet, r.url+"/healthz", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", header)
		resp, err := r.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.StatusCode, "%q", header)
	}
}

// A request in flight when the context ends is answered; then Serve
// returns nil and the port is closed.
func TestServeStopsWhenContextEnds(t *testing.T) {
	r := newRig(t, rigOptions{})
	entered, release := make(chan struct{}), make(chan struct{})
	r.mu.Lock()
	r.devicesHook = func() {
		close(entered)
		<-release
	}
	r.mu.Unlock()

	answered := make(chan int, 1)
	go func() {
		resp, err := r.client.Get(r.url + "/healthz")
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	<-entered
	r.mu.Lock()
	r.devicesHook = nil
	r.mu.Unlock()
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	close(release)
	assert.Equal(t, http.StatusOK, <-answered)
	require.NoError(t, <-stopped)

	_, err := net.Dial("tcp", strings.TrimPrefix(r.url, "http://"))
	assert.Error(t, err, "the listener is closed")
}

func TestListenAndServe(t *testing.T) {
	cfg := &config.Config{}
	a := newRig(t, rigOptions{}).app
	srv := status.New(status.Options{Config: cfg, Agent: a.Service})
	assert.NoError(t, srv.ListenAndServe(t.Context()), "status.listen empty: off")

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	cfg.Status.Listen = busy.Addr().String()
	err = status.New(status.Options{Config: cfg, Agent: a.Service}).ListenAndServe(t.Context())
	assert.ErrorContains(t, err, "address already in use")
}
