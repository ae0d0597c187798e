package agent_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/agenttest"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
)

const (
	// Distinctive, so that finding them in a file or a text means a leak.
	rightCardPassword = "R1ghtPwd7319"
	wrongCardPassword = "Wr0ngPwd5521"
)

func TestPasswordPolicyRequired(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy agent.PasswordPolicy
		amount money.Fen
		want   bool
	}{
		{"never", agent.PasswordPolicy{Mode: agent.PasswordNever}, 1_000_00, false},
		{"zero policy", agent.PasswordPolicy{}, 1_000_00, false},
		{"always, 0.01", agent.PasswordPolicy{Mode: agent.PasswordAlways}, 1, true},
		{"above, under", agent.PasswordPolicy{Mode: agent.PasswordAbove, Above: 20_00}, 19_99, false},
		{"above, equal", agent.PasswordPolicy{Mode: agent.PasswordAbove, Above: 20_00}, 20_00, false},
		{"above, over", agent.PasswordPolicy{Mode: agent.PasswordAbove, Above: 20_00}, 20_01, true},
		{"above 0", agent.PasswordPolicy{Mode: agent.PasswordAbove}, 1, true},
		{"unknown mode fails closed", agent.PasswordPolicy{Mode: "sometimes"}, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, c.policy.Required(c.amount))
		})
	}
}

// passwordRig is a rig whose normal card has a query password, with the
// network behind a switch and payments above 20.00 needing the password;
// checks are collected in checks.
type passwordRig struct {
	*rig
	net    *agenttest.NetSwitch
	checks []agent.PasswordCheck
}

func newPasswordRig(t *testing.T) *passwordRig {
	t.Helper()
	cards := sim.DemoCards()
	for i := range cards {
		if cards[i].Account == sim.DemoNormal {
			cards[i].Password = rightCardPassword
		}
	}
	sw := &agenttest.NetSwitch{}
	r := &passwordRig{net: sw, rig: newRig(t, agenttest.WrapTransport(sw.Wrap),
		agenttest.SimOptions(func(o *sim.Options) { o.Cards = cards }))}
	r.Service = r.service(r.Store)
	return r
}

// service is a Service over j with the rig's password policy.
func (r *passwordRig) service(j agent.Journal) *agent.Service {
	return r.NewService(j, func(o *agent.Options) {
		o.Password = agent.PasswordPolicy{Mode: agent.PasswordAbove, Above: 20_00}
		o.OnPasswordCheck = func(c agent.PasswordCheck) { r.checks = append(r.checks, c) }
	})
}

func (r *passwordRig) verify(account, pwd string) (agent.PasswordProof, error) {
	b := []byte(pwd)
	proof, err := r.Service.VerifyCardPassword(context.Background(), account, b)
	if !bytes.Equal(b, make([]byte, len(b))) {
		panic("VerifyCardPassword left the password in the caller's slice")
	}
	return proof, err
}

func (r *passwordRig) queries() int { return r.Simulator.Stats().Requests[onecard.MethodQueryCard] }

func TestCardPasswordRightThenPay(t *testing.T) {
	r := newPasswordRig(t)
	ctx := context.Background()
	assert.True(t, r.Service.PasswordRequired(20_01))
	assert.False(t, r.Service.PasswordRequired(20_00))

	// Without a proof, online: the caller's mistake, nothing journalled.
	_, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 25_00})
	var req *agent.PasswordRequiredError
	require.ErrorAs(t, err, &req)
	assert.False(t, req.Offline)
	orders, err := r.Store.Orders(ctx, agent.OrderFilter{})
	require.NoError(t, err)
	assert.Empty(t, orders)

	proof, err := r.verify(sim.DemoNormal, rightCardPassword)
	require.NoError(t, err)
	assert.Equal(t, []agent.PasswordCheck{{OK: true}}, r.checks)
	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 25_00, Proof: &proof})
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, o.State)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-25_00), bal)

	// Under the threshold no proof is needed.
	o, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 5_00})
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, o.State)
}

func TestCardPasswordProofIsForOneAccountAndShortLived(t *testing.T) {
	r := newPasswordRig(t)
	ctx := context.Background()
	proof, err := r.verify(sim.DemoNormal, rightCardPassword)
	require.NoError(t, err)

	_, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 25_00, Proof: &proof})
	require.ErrorAs(t, err, new(*agent.PasswordRequiredError), "a proof covers its own account only")
	_, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 25_00, Proof: &agent.PasswordProof{}})
	require.ErrorAs(t, err, new(*agent.PasswordRequiredError), "the zero proof proves nothing")

	// A proof from another Service (another terminal's) is no proof here.
	other := r.service(r.Store)
	_, err = other.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 25_00, Proof: &proof})
	require.ErrorAs(t, err, new(*agent.PasswordRequiredError))

	r.Clock.Advance(agent.PasswordProofLife)
	_, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 25_00, Proof: &proof})
	require.ErrorAs(t, err, new(*agent.PasswordRequiredError), "a proof expires")
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00), bal, "nothing was charged")
}

func TestCardPasswordWrongLocksTheCard(t *testing.T) {
	r := newPasswordRig(t)
	for _, left := range []int{2, 1} {
		_, err := r.verify(sim.DemoNormal, wrongCardPassword)
		var wrong *agent.WrongPasswordError
		require.ErrorAs(t, err, &wrong)
		assert.Equal(t, left, wrong.TriesLeft)
		assert.True(t, wrong.LockedUntil.IsZero())
	}
	_, err := r.verify(sim.DemoNormal, wrongCardPassword)
	var wrong *agent.WrongPasswordError
	require.ErrorAs(t, err, &wrong)
	lockEnd := r.Clock.Now().Add(agent.DefaultPasswordLock)
	assert.True(t, wrong.LockedUntil.Equal(lockEnd), "locked until %v", wrong.LockedUntil)
	n, err := r.Service.CardPasswordLocks(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Locked: even the right password is not sent.
	asked := r.queries()
	_, err = r.verify(sim.DemoNormal, rightCardPassword)
	var locked *agent.CardLockedError
	require.ErrorAs(t, err, &locked)
	assert.True(t, locked.Until.Equal(lockEnd))
	assert.Equal(t, asked, r.queries(), "the platform is not asked while the card is locked")

	// Another card is not locked by this one's guesses.
	_, err = r.verify(sim.DemoRich, sim.DemoRichPassword)
	require.NoError(t, err)

	assert.Equal(t, []agent.PasswordCheck{
		{Wrong: true, TriesLeft: 2}, {Wrong: true, TriesLeft: 1}, {Wrong: true, Locked: true},
		{Refused: true}, {OK: true},
	}, r.checks)

	// The lock ends; a right password then resets the count.
	r.Clock.Advance(agent.DefaultPasswordLock)
	_, err = r.verify(sim.DemoNormal, wrongCardPassword)
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 2, wrong.TriesLeft, "a fresh count after the lock")
	_, err = r.verify(sim.DemoNormal, rightCardPassword)
	require.NoError(t, err)
	_, err = r.verify(sim.DemoNormal, wrongCardPassword)
	require.ErrorAs(t, err, &wrong)
	assert.Equal(t, 2, wrong.TriesLeft, "the right password reset the count")
	n, err = r.Service.CardPasswordLocks(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestCardPasswordConfiguredRetcodeIsWrong(t *testing.T) {
	cards := sim.DemoCards()
	for i := range cards {
		if cards[i].Account == sim.DemoNormal {
			cards[i].Password = rightCardPassword
		}
	}
	r := newRig(t, agenttest.SimOptions(func(o *sim.Options) {
		o.Cards = cards
		o.WrongPasswordRetcode = "60011"
	}))
	svc := func(codes ...string) *agent.Service {
		return r.NewService(r.Store, func(o *agent.Options) {
			o.Password = agent.PasswordPolicy{Mode: agent.PasswordAlways, WrongRetcodes: codes}
		})
	}
	_, err := svc().VerifyCardPassword(context.Background(), sim.DemoNormal, []byte(wrongCardPassword))
	var declined *agent.Declined
	require.ErrorAs(t, err, &declined, "an unlisted retcode is the platform's refusal, not a wrong password")
	assert.Equal(t, "60011", declined.Code)

	_, err = svc("60011").VerifyCardPassword(context.Background(), sim.DemoNormal, []byte(wrongCardPassword))
	var wrong *agent.WrongPasswordError
	require.ErrorAs(t, err, &wrong)
}

func TestCardPasswordLockSurvivesRestart(t *testing.T) {
	r := newPasswordRig(t)
	for range 3 {
		_, err := r.verify(sim.DemoNormal, wrongCardPassword)
		require.ErrorAs(t, err, new(*agent.WrongPasswordError))
	}
	require.NoError(t, r.Store.Close())
	store, err := offline.Open(r.Path)
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	r.Store = store
	// Through the observed journal, as the kiosk builds it.
	r.Service = r.service(agent.ObserveJournal(store, func(context.Context, agent.OrderChange) {}))

	asked := r.queries()
	_, err = r.verify(sim.DemoNormal, rightCardPassword)
	require.ErrorAs(t, err, new(*agent.CardLockedError))
	assert.Equal(t, asked, r.queries())
	n, err := r.Service.CardPasswordLocks(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	// Expired entries are dropped from the journal on its next save.
	r.Clock.Advance(agent.DefaultPasswordLock)
	_, err = r.verify(sim.DemoRich, wrongCardPassword)
	require.ErrorAs(t, err, new(*agent.WrongPasswordError))
	states, err := store.CardPasswordStates(context.Background(), time.Time{})
	require.NoError(t, err)
	require.Len(t, states, 1, "only the rich card's count is left")
	for _, st := range states {
		assert.Equal(t, 1, st.Failures)
	}
	_, err = r.verify(sim.DemoNormal, rightCardPassword)
	require.NoError(t, err, "the lock ended")
}

func TestCardPasswordUnreachableRefusesOffline(t *testing.T) {
	r := newPasswordRig(t)
	ctx := context.Background()
	// Seen online, so that offline acceptance would otherwise take 25.00.
	_, err := r.Service.LookupCard(ctx, agent.Identity{Type: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)

	r.net.Down.Store(true)
	_, err = r.verify(sim.DemoNormal, rightCardPassword)
	require.ErrorIs(t, err, agent.ErrPlatformUnreachable)
	assert.Empty(t, r.checks, "no verdict")

	o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 25_00})
	var req *agent.PasswordRequiredError
	require.ErrorAs(t, err, &req)
	assert.True(t, req.Offline)
	assert.Equal(t, agent.StateVoided, o.State)
	assert.Equal(t, agent.Outcome{Kind: agent.OutcomeRefusedOffline, Reason: agent.OfflinePassword}, o.Outcome)
	stored := r.state(t, o.OrderNo)
	assert.Equal(t, agent.StateVoided, stored.State)
	assert.Equal(t, agent.OfflineRefusedCode, stored.Code)
	assert.Equal(t, o.Outcome, stored.Outcome)

	// Under the threshold, offline acceptance goes on as before.
	small, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 5_00})
	require.NoError(t, err)
	assert.Equal(t, agent.StateOfflineAccepted, small.State)

	r.net.Down.Store(false)
	_, err = r.Service.ReconcileOnce(ctx)
	require.NoError(t, err)
	bal, _ := r.Simulator.Balance(sim.DemoNormal)
	assert.Equal(t, money.Fen(100_00-5_00), bal, "the refused payment was never charged")
	assert.Equal(t, agent.StateVoided, r.state(t, o.OrderNo).State)
}

// The password appears nowhere the terminal keeps or says anything: not
// in the journal file, not in an error.
func TestCardPasswordNeverKept(t *testing.T) {
	r := newPasswordRig(t)
	ctx := context.Background()
	var errs []error
	for _, pwd := range []string{wrongCardPassword, wrongCardPassword, wrongCardPassword, wrongCardPassword} {
		_, err := r.verify(sim.DemoNormal, pwd)
		errs = append(errs, err)
	}
	r.Clock.Advance(agent.DefaultPasswordLock)
	proof, err := r.verify(sim.DemoNormal, rightCardPassword)
	require.NoError(t, err)
	_, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 25_00, Proof: &proof})
	require.NoError(t, err)
	_, err = r.verify(sim.DemoNormal, wrongCardPassword)
	errs = append(errs, err)
	r.net.Down.Store(true)
	_, err = r.verify(sim.DemoNormal, rightCardPassword)
	errs = append(errs, err)
	_, err = r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoNormal, Amount: 25_00})
	errs = append(errs, err)

	for _, err := range errs {
		require.Error(t, err)
		for _, pwd := range []string{rightCardPassword, wrongCardPassword} {
			assert.NotContains(t, err.Error(), pwd)
			assert.NotContains(t, fmtAll(err), pwd)
		}
	}
	require.NoError(t, r.Store.Close())
	raw, err := os.ReadFile(r.Path)
	require.NoError(t, err)
	for _, s := range []string{rightCardPassword, wrongCardPassword} {
		assert.False(t, bytes.Contains(raw, []byte(s)), "the journal holds a password")
	}
	assert.True(t, bytes.Contains(raw, []byte("card_password_state")))
}

// fmtAll is every error in err's tree, as text.
func fmtAll(err error) string {
	var b bytes.Buffer
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		b.WriteString(err.Error() + "\n")
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return b.String()
}

func TestCardPasswordRefusesEmpty(t *testing.T) {
	r := newPasswordRig(t)
	asked := r.queries()
	_, err := r.verify(sim.DemoNormal, "")
	require.ErrorAs(t, err, new(*agent.InvalidRequest), "an empty pwd would not be checked at all")
	_, err = r.verify(sim.DemoNormal, string(bytes.Repeat([]byte("x"), 33)))
	require.ErrorAs(t, err, new(*agent.InvalidRequest))
	assert.Equal(t, asked, r.queries())
	assert.False(t, errors.Is(err, agent.ErrPlatformUnreachable))
}

// An attended payment (the canteen's till, kioskctl) is not asked for the
// password, whatever the amount: the policy is for self-service.
func TestCardPasswordNotAskedWhenAttended(t *testing.T) {
	r := newPasswordRig(t)
	o, err := r.Service.Pay(context.Background(), agent.PayInput{Account: sim.DemoNormal, Amount: 25_00, Attended: true})
	require.NoError(t, err)
	assert.Equal(t, agent.StatePaid, o.State)
	assert.Empty(t, r.checks)
}
