package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// front stands before the simulator on a loopback port of the test's own:
// a request its errcode func names a code for is answered with that system
// errcode (a signed envelope without a request field, as a busy platform
// answers -1); every other request goes on to the simulator.
type front struct {
	mu sync.Mutex
	// errcode gets the request's method and how many requests for it
	// came so far, this one included; "" passes the request on.
	errcode func(method string, n int) string
	seen    map[string]int
}

// answer sets what the front answers from now on (nil: nothing), and
// starts counting afresh.
func (f *front) answer(errcode func(method string, n int) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errcode, f.seen = errcode, map[string]int{}
}

func (f *front) code(method string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen[method]++
	if f.errcode == nil {
		return ""
	}
	return f.errcode(method, f.seen[method])
}

// always answers every request for method with errcode code.
func always(method, code string) func(string, int) string {
	return func(m string, _ int) string {
		if m == method {
			return code
		}
		return ""
	}
}

// newFrontedEnv is newEnv with the simulator behind a front.
func newFrontedEnv(t *testing.T) (*env, *front) {
	t.Helper()
	_, platformPriv, _ := onecardtest.TestKeys()
	ts := httptest.NewUnstartedServer(nil)
	simulator, err := sim.NewHandler(simOptions(func(o *sim.Options) { o.BaseURL = "http://" + ts.Listener.Addr().String() }))
	require.NoError(t, err)
	t.Cleanup(simulator.Close)
	f := &front{seen: map[string]int{}}
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		code := f.code(form.Get("method"))
		if code == "" {
			simulator.ServeHTTP(w, r)
			return
		}
		reply, err := onecard.EncodeReply(code, "", false, platformPriv)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = w.Write(reply)
	})
	ts.Start()
	t.Cleanup(ts.Close)
	return &env{simulator: simulator, config: onecardtest.WriteKioskConfig(t, t.TempDir(), simulator, "1s", "")}, f
}

// A failed call's exit status fits what the call was: only a payment or a
// refund can leave an outcome to confirm (exit 3); any other call is tried
// again (exit 1), whatever became of its request.
func TestExitStatusFitsTheCall(t *testing.T) {
	const tryAgain, confirm = "try again", "confirm it with `kioskctl query ORDER_NO`"
	// The command lines, after whatever each needs first.
	argsOf := func(args ...string) func(*testing.T, *env) []string {
		return func(*testing.T, *env) []string { return args }
	}
	card := argsOf("card", "--idtype", "sno", "--id", "2024000001")
	pay := argsOf("pay", "--account", sim.DemoNormal, "--amount", "5")
	bill := func(extra ...string) func(*testing.T, *env) []string {
		return func(_ *testing.T, e *env) []string {
			day := e.simulator.Now().In(e.simulator.Location()).Format(onecard.BillDateLayout)
			return append([]string{"bill", "--date", day}, extra...)
		}
	}
	refund := func(t *testing.T, e *env) []string {
		code, o := e.jsonRun(t, pay(t, e)...)
		require.Equal(t, exitOK, code, "%v", o)
		return []string{"refund", "--order-no", o["order_no"].(string), "--amount", "1"}
	}
	cases := []struct {
		name string
		args func(*testing.T, *env) []string
		// method fails once, with errcode (answered by the front) or fault
		// (by the simulator).
		method  string
		errcode string
		fault   sim.FaultKind
		want    int
		outcome string
		advice  string
	}{
		{"card, errcode -1 (system busy)", card, onecard.MethodQueryCard, onecard.ErrcodeBusy, "", exitDeclined, "failed", tryAgain},
		{"card, errcode -2 (internal error)", card, onecard.MethodQueryCard, onecard.ErrcodeInternal, "", exitDeclined, "failed", tryAgain},
		{"card, reply dropped", card, onecard.MethodQueryCard, "", sim.FaultDropReply, exitDeclined, "failed", tryAgain},
		{"card, bare text instead of the envelope", card, onecard.MethodQueryCard, "", sim.FaultText, exitDeclined, "failed", tryAgain},
		{"card, HTTP 500", card, onecard.MethodQueryCard, "", sim.FaultHTTP500, exitDeclined, "failed", tryAgain},
		{"card, errcode 40004 (signature refused): declined", card, onecard.MethodQueryCard, onecard.ErrcodeBadSign, "", exitDeclined, "declined", ""},
		{"token, reply dropped", argsOf("token"), onecard.MethodAccessToken, "", sim.FaultDropReply, exitDeclined, "failed", tryAgain},
		{"query, errcode -1", argsOf("query", "001720261128011611000001", "--account", sim.DemoNormal),
			onecard.MethodPayQuery, onecard.ErrcodeBusy, "", exitDeclined, "failed", tryAgain},
		{"bill, HTTP 500", bill(), onecard.MethodDownBill, "", sim.FaultHTTP500, exitDeclined, "failed", tryAgain},
		{"bill --reconcile, reply dropped", bill("--reconcile"), onecard.MethodDownBill, "", sim.FaultDropReply, exitDeclined, "failed", tryAgain},
		{"pay, reply dropped", pay, onecard.MethodPay, "", sim.FaultDropReply, exitUnknown, "unknown", confirm},
		{"pay, errcode -1", pay, onecard.MethodPay, onecard.ErrcodeBusy, "", exitUnknown, "unknown", confirm},
		{"refund, reply dropped", refund, onecard.MethodRefund, "", sim.FaultDropReply, exitUnknown, "unknown", confirm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A fresh terminal for each output: a token call counts even
			// when its reply is lost.
			arm := func(t *testing.T) (*env, []string) {
				e, f := newFrontedEnv(t)
				args := c.args(t, e)
				if c.errcode != "" {
					f.answer(func(m string, n int) string {
						if m == c.method && n == 1 {
							return c.errcode
						}
						return ""
					})
				} else {
					e.simulator.InjectFault(sim.Fault{Kind: c.fault, Method: c.method, Times: 1})
				}
				return e, args
			}
			t.Run("text", func(t *testing.T) {
				e, args := arm(t)
				code, _, stderr := e.kioskctl(t, args...)
				assert.Equal(t, c.want, code, stderr)
				if c.advice != "" {
					assert.Contains(t, stderr, c.advice)
				}
				if c.want != exitUnknown {
					assert.NotContains(t, stderr, "kioskctl query", "nothing to confirm")
				}
			})
			t.Run("json", func(t *testing.T) {
				e, args := arm(t)
				code, obj := e.jsonRun(t, args...)
				assert.Equal(t, c.want, code)
				assert.EqualValues(t, c.want, obj["exit"])
				assert.Equal(t, c.outcome, obj["outcome"])
				assert.NotEmpty(t, obj["error"])
				if c.errcode != "" {
					assert.Equal(t, c.errcode, obj["code"])
				}
				if c.advice == "" {
					assert.NotContains(t, obj, "advice")
				} else {
					assert.Contains(t, obj["advice"], c.advice)
				}
			})
		})
	}
}

// reconcile resends and refunds, but journals each outcome: a pass the
// platform failed is run again, never confirmed by hand.
func TestReconcileFailureIsTriedAgain(t *testing.T) {
	e, f := newFrontedEnv(t)
	e.simulator.InjectFault(sim.Fault{Kind: sim.FaultDropReply, Method: onecard.MethodPay, Times: 1})
	code, obj := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", "5")
	require.Equal(t, exitUnknown, code)
	orderNo := obj["order_no"].(string)

	f.answer(always(onecard.MethodPayQuery, onecard.ErrcodeBusy))
	var stderr string
	// The order falls due once the request's timeout (1s) has passed.
	require.Eventually(t, func() bool {
		code, _, stderr = e.kioskctl(t, "reconcile")
		return code != exitOK
	}, 10*time.Second, 100*time.Millisecond)
	assert.Equal(t, exitDeclined, code, stderr)
	assert.Contains(t, stderr, "try again")
	assert.NotContains(t, stderr, "kioskctl query")

	f.answer(nil)
	require.Eventually(t, func() bool {
		code, rec := e.jsonRun(t, "reconcile")
		return code == exitOK && len(rec["settled"].([]any)) == 1
	}, 10*time.Second, 100*time.Millisecond)
	assert.Equal(t, "paid", e.queued(t, orderNo)["state"])
}

// query marks each order it has no answer for as not_asked, with why, and
// shows the answers it got.
func TestQueryMarksOrdersNotAsked(t *testing.T) {
	e, f := newFrontedEnv(t)
	code, paid := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", "5")
	require.Equal(t, exitOK, code)
	payment := paid["order_no"].(string)

	t.Run("not in the journal, no --account", func(t *testing.T) {
		code, q := e.jsonRun(t, "query", payment, "nope")
		assert.Equal(t, exitUsage, code)
		orders := q["orders"].([]any)
		require.Len(t, orders, 2)
		assert.Equal(t, "paid", orders[0].(map[string]any)["status"])
		nope := orders[1].(map[string]any)
		assert.Equal(t, "not_asked", nope["status"])
		assert.Equal(t, notInJournal, nope["reason"])
		assert.Contains(t, nope["why"], "give --account")

		code, out, _ := e.kioskctl(t, "query", payment, "nope")
		assert.Equal(t, exitUsage, code)
		assert.Regexp(t, `nope\s+unknown locally\s+not asked\s+not in the journal: give --account`, out)
	})

	// 51 orders take two pay.query calls; the platform is busy for the
	// second: the first 50 answers are shown, the 51st is not_asked.
	nos := make([]string, 51)
	for i := range nos {
		nos[i] = fmt.Sprintf("00172026112801161100%04d", i)
	}
	nos[0] = payment
	args := append([]string{"query", "--account", sim.DemoNormal}, nos...)
	busySecond := func(m string, n int) string {
		if m == onecard.MethodPayQuery && n == 2 {
			return onecard.ErrcodeBusy
		}
		return ""
	}
	t.Run("the platform busy for the second batch", func(t *testing.T) {
		f.answer(busySecond)
		code, q := e.jsonRun(t, args...)
		assert.Equal(t, exitDeclined, code)
		assert.Equal(t, onecard.ErrcodeBusy, q["code"])
		assert.Contains(t, q["advice"], "try again")
		orders := q["orders"].([]any)
		require.Len(t, orders, 51)
		assert.Equal(t, "paid", orders[0].(map[string]any)["status"])
		assert.Equal(t, "78", orders[49].(map[string]any)["order_status"], "the platform has no such order")
		last := orders[50].(map[string]any)
		assert.Equal(t, nos[50], last["order_no"])
		assert.Equal(t, "not_asked", last["status"])
		assert.Equal(t, noAnswer, last["reason"])
		assert.Contains(t, last["why"], "try again")

		f.answer(busySecond)
		code, out, stderr := e.kioskctl(t, args...)
		assert.Equal(t, exitDeclined, code)
		assert.Contains(t, stderr, "try again")
		assert.Regexp(t, nos[50]+`\s+unknown locally\s+not asked\s+pay.query failed before answering about it: try again`, out)
		assert.Regexp(t, nos[49]+`\s+unknown locally\s+78 no such order`, out)
	})
}

// Only pay and refund can leave an outcome to confirm.
func TestOnlyPayAndRefundMoveMoney(t *testing.T) {
	var moving []string
	for name, c := range commands() {
		if c.kind == movesMoney {
			moving = append(moving, name)
		}
	}
	assert.ElementsMatch(t, []string{"pay", "refund"}, moving)
}

// The errors the simulator cannot make: a request that never left, and a
// failure that is not the platform's.
func TestExitCodeByKind(t *testing.T) {
	notSent := &onecard.TransportError{Method: onecard.MethodPay, Err: errors.New("connection refused")}
	journal := errors.New("journal: disk full")
	cases := []struct {
		name    string
		k       kind
		err     error
		want    int
		outcome string
		advice  string
	}{
		{"lookup, platform unreachable", repeatable, fmt.Errorf("%w: %w", agent.ErrPlatformUnreachable, notSent), exitDeclined, "failed", adviceTryAgain},
		{"query, never sent (wire error)", repeatable, notSent, exitDeclined, "failed", adviceTryAgain},
		{"payment, never sent", movesMoney, fmt.Errorf("%w: %w", agent.ErrPlatformUnreachable, notSent), exitDeclined, "declined", ""},
		{"refund, never sent (wire error)", movesMoney, notSent, exitDeclined, "declined", ""},
		{"payment, outcome not recorded", movesMoney, journal, exitUnknown, "unknown", adviceConfirm},
		{"lookup, the journal failed", repeatable, journal, exitDeclined, "failed", ""},
		{"lookup, no such card", repeatable, fmt.Errorf("%w: %w", agent.ErrCardNotFound,
			&onecard.BusinessError{Retcode: onecard.RetcodeAccountNotFound}), exitDeclined, "not_found", ""},
		{"payment refused offline", movesMoney, &agent.OfflineRefusal{Code: agent.OfflineAmount, Reason: "over 30.00"}, exitDeclined, "declined", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, outcome, advice := exitCode(c.k, c.err)
			assert.Equal(t, c.want, code)
			assert.Equal(t, c.outcome, outcome)
			assert.Equal(t, c.advice, advice)
		})
	}
}
