package sim_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
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

// These tests cover the field variations: modes in which the simulator no
// longer protects the terminal, as a real platform may not.

const mercacc = "100000"

func (r *rig) pay(t *testing.T, orderNo string, amount money.Fen) (onecard.PayResult, error) {
	t.Helper()
	return r.c.Pay(t.Context(), r.tok, onecard.PayRequest{OrderNo: orderNo, Account: sim.DemoNormal, AccType: "###", MercAcc: mercacc, Amount: amount})
}

func (r *rig) refund(t *testing.T, orderNo, of string, amount money.Fen) (onecard.RefundResult, error) {
	t.Helper()
	return r.c.Refund(t.Context(), r.tok, onecard.RefundRequest{OrderNo: orderNo, RefundOrderNo: of, Account: sim.DemoNormal, AccType: "###", MercAcc: mercacc, Amount: amount})
}

// payThenRefund pays orderNo and refunds part of it under refundNo; both
// must succeed.
func (r *rig) payThenRefund(t *testing.T, orderNo string, amount money.Fen, refundNo string, refunded money.Fen) (onecard.PayResult, onecard.RefundResult) {
	t.Helper()
	p, err := r.pay(t, orderNo, amount)
	require.NoError(t, err)
	rf, err := r.refund(t, refundNo, orderNo, refunded)
	require.NoError(t, err)
	return p, rf
}

// status asks pay.query for one order of DemoNormal.
func (r *rig) status(t *testing.T, orderNo string) onecard.OrderStatus {
	t.Helper()
	sts, err := r.c.QueryPayments(t.Context(), r.tok, []onecard.PayQuery{{Account: sim.DemoNormal, AccType: "###", OrderNo: orderNo}})
	require.NoError(t, err)
	require.Len(t, sts, 1)
	return sts[0].Status
}

func (r *rig) balance(t *testing.T) money.Fen {
	t.Helper()
	b, ok := r.srv.Balance(sim.DemoNormal)
	require.True(t, ok)
	return b
}

func retcode(err error) string {
	var be *onecard.BusinessError
	if errors.As(err, &be) {
		return be.Retcode
	}
	return ""
}

func TestRefundsUncapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		uncapped bool
	}{{"capped (default)", false}, {"uncapped", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, func(o *sim.Options) { o.RefundsUncapped = tt.uncapped })
			r.payThenRefund(t, "U-1", 10_00, "U-R1", 6_00)
			_, err := r.refund(t, "U-R2", "U-1", 6_00)
			orig, ok := r.srv.Order("U-1")
			require.True(t, ok)
			if !tt.uncapped {
				assert.Equal(t, onecard.RetcodeRefundTooLarge, retcode(err))
				assert.Equal(t, money.Fen(96_00), r.balance(t))
				assert.Equal(t, money.Fen(6_00), orig.Refunded)
				assert.Equal(t, onecard.StatusPaid, orig.Status)
				assert.Zero(t, r.srv.Stats().OverRefunds)
				return
			}
			require.NoError(t, err, "a refund beyond the payment is accepted")
			assert.Equal(t, money.Fen(102_00), r.balance(t), "the balance is credited in full")
			assert.Equal(t, money.Fen(12_00), orig.Refunded, "Refunded exceeds Amount")
			assert.Equal(t, onecard.StatusRefunded, orig.Status)

			// A refund of a payment already refunded in full is accepted too.
			_, err = r.refund(t, "U-R3", "U-1", 1)
			require.NoError(t, err)
			assert.Equal(t, money.Fen(102_01), r.balance(t))
			assert.Equal(t, onecard.StatusRefunded, r.status(t, "U-1"))
			st := r.srv.Stats()
			assert.Equal(t, 2, st.OverRefunds)
			assert.Equal(t, 3, st.Refunds)
		})
	}
}

func TestQueryForgetsRefunds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		forgets    bool
		wantRefund onecard.OrderStatus
	}{
		{"default answers refunds", false, onecard.StatusPaid},
		{"forgets refunds", true, onecard.StatusNoOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, func(o *sim.Options) { o.QueryForgetsRefunds = tt.forgets })
			r.payThenRefund(t, "Q-1", 3_00, "Q-R1", 1_00)
			assert.Equal(t, onecard.StatusPaid, r.status(t, "Q-1"), "payments are still answered")
			assert.Equal(t, tt.wantRefund, r.status(t, "Q-R1"))
			_, err := r.refund(t, "Q-R1", "Q-1", 1_00)
			assert.Equal(t, onecard.RetcodeDuplicateOrder, retcode(err), "a resend still shows the platform has it")
		})
	}
}

func TestDuplicateReply(t *testing.T) {
	t.Parallel()
	// Each case sets up its orders first, then resends one.
	type outcome struct {
		retcode string // "" for success
		sameOut bool   // the success carries the recorded out_id
	}
	tests := []struct {
		mode                                       string
		samePay, otherAmount, declined, sameRefund outcome
	}{
		{"", outcome{retcode: "60045"}, outcome{retcode: "60045"}, outcome{retcode: "60045"}, outcome{retcode: "60045"}},
		{"60045", outcome{retcode: "60045"}, outcome{retcode: "60045"}, outcome{retcode: "60045"}, outcome{retcode: "60045"}},
		{"60070", outcome{retcode: "60070"}, outcome{retcode: "60070"}, outcome{retcode: "60070"}, outcome{retcode: "60070"}},
		{sim.DuplicateReplay, outcome{sameOut: true}, outcome{retcode: "60045"}, outcome{retcode: onecard.RetcodeInsufficient}, outcome{sameOut: true}},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, func(o *sim.Options) { o.DuplicateReply = tt.mode })
			first, firstRefund := r.payThenRefund(t, "D-1", 2_00, "D-R1", 50)
			_, err := r.pay(t, "D-BIG", 1_000_00)
			require.Equal(t, onecard.RetcodeInsufficient, retcode(err))
			before := r.balance(t)

			check := func(name string, want outcome, gotOut, wantOut string, err error) {
				if want.retcode != "" {
					assert.Equal(t, want.retcode, retcode(err), name)
					return
				}
				if assert.NoError(t, err, name) {
					assert.Equal(t, wantOut, gotOut, "%s: the recorded out_id", name)
				}
			}
			again, err := r.pay(t, "D-1", 2_00)
			check("same pay", tt.samePay, again.OutID, first.OutID, err)
			_, err = r.pay(t, "D-1", 2_01)
			check("other amount", tt.otherAmount, "", "", err)
			_, err = r.pay(t, "D-BIG", 1_000_00)
			check("declined pay", tt.declined, "", "", err)
			refundAgain, err := r.refund(t, "D-R1", "D-1", 50)
			check("same refund", tt.sameRefund, refundAgain.OutID, firstRefund.OutID, err)
			if err == nil {
				assert.Equal(t, "D-1", refundAgain.RefundOrderNo)
			}
			_, err = r.refund(t, "D-1", "D-1", 2_00)
			assert.NotEmpty(t, retcode(err), "a refund reusing a payment's order_no is a duplicate")

			assert.Equal(t, before, r.balance(t), "a duplicate moves no money")
			assert.Len(t, r.srv.Transactions(), 3, "a duplicate is never recorded")
			replays := 0
			if tt.mode == sim.DuplicateReplay {
				replays = 3
			}
			assert.Equal(t, replays, r.srv.Stats().Replays)
		})
	}
}

// lateLog returns a Logf that reports each late processing on the channel.
func lateLog(processed chan<- string) func(*sim.Options) {
	return func(o *sim.Options) {
		o.Logf = func(format string, args ...any) {
			if line := fmt.Sprintf(format, args...); strings.Contains(line, "processed late") {
				processed <- line
			}
		}
	}
}

func TestLateFaultReleased(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.srv.InjectFault(sim.Fault{Kind: sim.FaultLate, Method: onecard.MethodPay, Times: 1, Delay: time.Hour})

	_, err := r.pay(t, "L-1", 4_00)
	require.Error(t, err)
	assert.True(t, onecard.OutcomeUnknown(err), "the connection closes without an answer: %v", err)
	assert.Equal(t, 1, r.srv.Held())
	assert.Equal(t, onecard.StatusNoOrder, r.status(t, "L-1"), "the query overtakes the held payment")
	assert.Equal(t, money.Fen(100_00), r.balance(t))

	r.clk.Advance(2 * time.Minute)
	assert.Equal(t, 1, r.srv.ReleaseHeld())
	assert.Zero(t, r.srv.Held())
	tx, ok := r.srv.Order("L-1")
	require.True(t, ok, "the held payment is in the ledger")
	assert.Equal(t, onecard.StatusPaid, tx.Status)
	assert.Equal(t, r.startTime.Add(2*time.Minute), tx.Time, "processed on the clock of its processing")
	assert.Equal(t, onecard.StatusPaid, r.status(t, "L-1"))
	assert.Equal(t, money.Fen(96_00), r.balance(t))
	assert.Zero(t, r.srv.ReleaseHeld(), "nothing left to release")

	st := r.srv.Stats()
	assert.Equal(t, 1, st.Held)
	assert.Equal(t, 1, st.ProcessedLate)
	assert.Equal(t, 1, st.Charges)
	assert.Equal(t, 1, st.FaultsFired[sim.FaultLate])
}

func TestLateFaultDelayFires(t *testing.T) {
	t.Parallel()
	processed := make(chan string, 4)
	r := newRig(t, lateLog(processed))
	_, err := r.pay(t, "LD-0", 1_00) // charged, so that the refund has an original
	require.NoError(t, err)
	r.srv.InjectFault(sim.Fault{Kind: sim.FaultLate, Method: onecard.MethodRefund, Times: 1, Delay: time.Millisecond})

	_, err = r.refund(t, "LD-R1", "LD-0", 1_00)
	assert.True(t, onecard.OutcomeUnknown(err), "%v", err)
	select {
	case line := <-processed:
		assert.Contains(t, line, onecard.MethodRefund)
	case <-time.After(10 * time.Second):
		t.Fatal("the held refund was never processed")
	}
	assert.Zero(t, r.srv.Held())
	assert.Equal(t, onecard.StatusPaid, r.status(t, "LD-R1"))
	assert.Equal(t, money.Fen(100_00), r.balance(t))
}

func TestLateFaultAnswersSystemRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.srv.InjectFault(sim.Fault{Kind: sim.FaultLate, Times: 1, Delay: time.Hour})
	_, err := r.c.Pay(t.Context(), "not-the-token", onecard.PayRequest{OrderNo: "LS-1", Account: sim.DemoNormal, AccType: "###", MercAcc: mercacc, Amount: 1})
	var se *onecard.SystemError
	require.ErrorAs(t, err, &se, "a request the system layer refuses is answered at once")
	assert.True(t, se.TokenInvalid())
	assert.Zero(t, r.srv.Held())
}

// heldOrders pays n orders through a simulator holding by policy and
// returns the order numbers held.
func heldOrders(t *testing.T, hold sim.HoldPolicy, n int) []string {
	t.Helper()
	r := newRig(t, func(o *sim.Options) { o.Hold = hold })
	var held []string
	for i := range n {
		no := fmt.Sprintf("H-%02d", i)
		_, err := r.pay(t, no, 1)
		if err != nil {
			require.True(t, onecard.OutcomeUnknown(err), "%v", err)
			held = append(held, no)
			assert.Equal(t, onecard.StatusNoOrder, r.status(t, no))
		}
	}
	assert.Equal(t, len(held), r.srv.Held())
	assert.Equal(t, len(held), r.srv.ReleaseHeld())
	for _, no := range held {
		assert.Equal(t, onecard.StatusPaid, r.status(t, no))
	}
	st := r.srv.Stats()
	assert.Equal(t, n, st.Charges, "every payment is processed, held or not")
	assert.Equal(t, len(held), st.Held)
	assert.Equal(t, len(held), st.ProcessedLate)
	return held
}

func TestHoldPolicy(t *testing.T) {
	t.Parallel()
	half := sim.HoldPolicy{Fraction: 0.5, For: time.Hour, Seed: 42}
	first := heldOrders(t, half, 20)
	assert.NotEmpty(t, first)
	assert.Less(t, len(first), 20)
	assert.Equal(t, first, heldOrders(t, half, 20), "the same seed holds the same requests")

	all := heldOrders(t, sim.HoldPolicy{Fraction: 1, For: time.Hour, Seed: 1}, 3)
	assert.Len(t, all, 3)
	assert.Empty(t, heldOrders(t, sim.HoldPolicy{}, 3), "the zero value holds nothing")
}

func TestHoldPolicyOnlyPaysAndRefunds(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(o *sim.Options) { o.Hold = sim.HoldPolicy{Fraction: 1, For: time.Hour} })
	_, err := r.c.QueryCard(t.Context(), r.tok, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)
	assert.Equal(t, onecard.StatusNoOrder, r.status(t, "none"))
	_, err = r.refund(t, "HR-1", "none", 1)
	assert.True(t, onecard.OutcomeUnknown(err))
	assert.Equal(t, 1, r.srv.Held())
}

// fireRunning reports whether a late-processing timer callback of any
// simulator is running: the tests that call it do not run in parallel, so
// that it only sees theirs.
func fireRunning() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Contains(string(buf), "sim.(*Server).fire")
}

// TestCloseWithHeldRequests closes the simulator with requests held, their
// timers far off or firing meanwhile: whatever the interleaving, each held
// request is processed or dropped, once, and no timer callback outlives
// Close. Not parallel: fireRunning sees every simulator.
func TestCloseWithHeldRequests(t *testing.T) {
	tests := []struct {
		name  string
		delay time.Duration
		n     int
	}{
		{"timers far off", time.Hour, 3},
		{"timers firing", time.Microsecond, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.srv.InjectFault(sim.Fault{Kind: sim.FaultLate, Method: onecard.MethodPay, Delay: tt.delay})
			for i := range tt.n {
				_, err := r.pay(t, fmt.Sprintf("C-%d", i), 1)
				require.Error(t, err)
			}
			r.srv.Close()
			assert.False(t, fireRunning(), "a timer callback outlived Close")
			assert.Zero(t, r.srv.Held())
			assert.Zero(t, r.srv.ReleaseHeld(), "dropped requests are not processed")
			st := r.srv.Stats()
			assert.Equal(t, tt.n, st.Held)
			assert.Equal(t, st.Held, st.ProcessedLate+st.HeldDropped)
			assert.Len(t, r.srv.Transactions(), st.ProcessedLate)
			if tt.delay == time.Hour {
				assert.Equal(t, tt.n, st.HeldDropped)
			}
		})
	}
}

func TestModeOptionsChecked(t *testing.T) {
	t.Parallel()
	clientPriv, _, secret := onecardtest.TestKeys()
	tests := []struct {
		name string
		opts func(*sim.Options)
	}{
		{"fraction over 1", func(o *sim.Options) { o.Hold = sim.HoldPolicy{Fraction: 1.5, For: time.Second} }},
		{"fraction negative", func(o *sim.Options) { o.Hold = sim.HoldPolicy{Fraction: -0.1, For: time.Second} }},
		{"fraction NaN", func(o *sim.Options) { o.Hold = sim.HoldPolicy{Fraction: math.NaN(), For: time.Second} }},
		{"fraction without for", func(o *sim.Options) { o.Hold = sim.HoldPolicy{Fraction: 0.5} }},
		{"for negative", func(o *sim.Options) { o.Hold = sim.HoldPolicy{For: -time.Second} }},
		{"unknown duplicate reply", func(o *sim.Options) { o.DuplicateReply = "60046" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sim.Options{AppKey: "k", AppSecret: secret, ClientKey: &clientPriv.PublicKey}
			tt.opts(&o)
			_, err := sim.NewHandler(o)
			assert.Error(t, err)
		})
	}
	assert.Error(t, sim.Fault{Kind: sim.FaultLate}.Validate(), "late needs a delay")
	assert.NoError(t, sim.Fault{Kind: sim.FaultLate, Delay: time.Second}.Validate())
	assert.ErrorContains(t, sim.Fault{Kind: sim.FaultText, Delay: time.Second}.Validate(), "late")
}

func TestAdminHeld(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	base := strings.TrimSuffix(r.srv.URL(), "/tsm") + sim.AdminPrefix
	do := func(method, name, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, base+name, strings.NewReader(body))
		require.NoError(t, err)
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := r.httpc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}

	status, body := do("POST", "faults", `{"kind":"late","method":"synjones.onecard.gdccard.pay","times":1,"delay":"1h"}`)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, []sim.Fault{{Kind: sim.FaultLate, Method: onecard.MethodPay, Times: 1, Delay: time.Hour}}, r.srv.Faults())
	status, _ = do("POST", "faults", `{"kind":"late"}`)
	assert.Equal(t, http.StatusBadRequest, status, "late needs a delay")

	_, err := r.pay(t, "AH-1", 1_00)
	require.Error(t, err)
	_, body = do("GET", "held", "")
	assert.JSONEq(t, `{"held":1}`, body)
	status, _ = do("POST", "held/release", `{"all":true}`)
	assert.Equal(t, http.StatusBadRequest, status, "release takes no settings")
	status, body = do("POST", "held/release", "")
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"released":1,"held":0}`, body)
	status, body = do("POST", "held/release", "{}")
	require.Equal(t, http.StatusOK, status, body)
	assert.JSONEq(t, `{"released":0,"held":0}`, body)
	status, _ = do("GET", "held/release", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	status, _ = do("DELETE", "held", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)

	_, body = do("GET", "stats", "")
	assert.Contains(t, body, `"held": 1`)
	assert.Contains(t, body, `"processed_late": 1`)
	assert.Equal(t, onecard.StatusPaid, r.status(t, "AH-1"))
}
