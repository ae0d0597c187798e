package offline_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/offline"
)

// farFuture is after every NextAttempt the index can tell apart.
var farFuture = time.Unix(0, math.MaxInt64)

func newJournal(t *testing.T, opts ...offline.Option) *offline.Store {
	t.Helper()
	return openStore(t, filepath.Join(t.TempDir(), "kiosk.db"), opts...)
}

func orderNos(list []agent.Order) []string {
	nos := []string{}
	for _, o := range list {
		nos = append(nos, o.OrderNo)
	}
	return nos
}

// sending is a payment just journalled, due for the reconciler at next.
func sending(no string, created, next time.Time) agent.Order {
	o := payment(no, created)
	o.NextAttempt = next
	return o
}

func TestCreateOrderKeepsEveryField(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s := openStore(t, path)
	o := agent.Order{
		OrderNo: "K17-000009", Kind: agent.KindRefund, RefundOf: "K17-000001",
		Account: "20230001", AccType: "###", MercAcc: "1000001", TermID: "17",
		Amount: 50, Created: t0.In(cst), Updated: t0.Add(time.Second),
		State: agent.StateUnknown, OutID: "T1", Code: "9999", Message: "超时",
		Attempts: 2, LastError: "read tcp: i/o timeout", LastSent: t0.Add(time.Second),
		NextAttempt: t0.Add(time.Minute), Refunded: 0, RefundOrderNo: "", Day: "20250314",
		History: []agent.Transition{{At: t0.Add(time.Second), From: agent.StateSending, To: agent.StateUnknown, Note: "timeout"}},
	}
	require.NoError(t, s.CreateOrder(ctx, o))
	got, err := s.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	want := o
	want.Created = t0
	assert.Equal(t, want, got)
	require.NoError(t, s.Close())

	s = openStore(t, path)
	got, err = s.Order(ctx, o.OrderNo)
	require.NoError(t, err)
	assert.Equal(t, want, got, "survives reopening")
}

func TestUpdateOrderRefusesIllegalTransition(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	require.NoError(t, s.CreateOrder(ctx, sending("K1", t0, t0.Add(time.Minute))))
	paid, err := s.UpdateOrder(ctx, "K1", func(o *agent.Order) error {
		o.NextAttempt = time.Time{}
		return o.To(agent.StatePaid, t0.Add(time.Second), "confirmed")
	})
	require.NoError(t, err)
	require.Equal(t, agent.StatePaid, paid.State)
	require.Len(t, paid.History, 1)

	for _, to := range []agent.OrderState{agent.StateSending, agent.StateUnknown, agent.StateOfflineAccepted, agent.StateVoided} {
		_, err := s.UpdateOrder(ctx, "K1", func(o *agent.Order) error {
			// Bypassing Order.To: the store checks on its own.
			o.State = to
			o.NextAttempt = t0
			o.Attempts = 99
			return nil
		})
		require.ErrorIs(t, err, agent.ErrIllegalTransition, "paid → %s", to)
		assert.Contains(t, err.Error(), `"K1"`)
	}
	got, err := s.Order(ctx, "K1")
	require.NoError(t, err)
	assert.Equal(t, paid, got, "refused updates changed nothing")
	due, err := s.Due(ctx, farFuture, 0)
	require.NoError(t, err)
	assert.Empty(t, due, "nor the index")

	// Staying in the same state is always allowed.
	got, err = s.UpdateOrder(ctx, "K1", func(o *agent.Order) error { o.Attempts++; return nil })
	require.NoError(t, err)
	assert.Equal(t, 1, got.Attempts)
}

func TestUpdateOrderRefusesIdentityAndHistoryChanges(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	o := sending("K1", t0, t0.Add(time.Minute))
	o.History = []agent.Transition{{At: t0, To: agent.StateSending, Note: "journalled"}}
	require.NoError(t, s.CreateOrder(ctx, o))
	before, err := s.Order(ctx, "K1")
	require.NoError(t, err)

	for _, c := range []struct {
		name, want string
		change     func(*agent.Order)
	}{
		{"order_no", "order_no", func(o *agent.Order) { o.OrderNo = "K2" }},
		{"kind", "kind", func(o *agent.Order) { o.Kind = agent.KindRefund; o.RefundOf = "K0" }},
		{"refund_of", "refund_of", func(o *agent.Order) { o.RefundOf = "K0" }},
		{"account", "account", func(o *agent.Order) { o.Account = "20239999" }},
		{"amount", "amount", func(o *agent.Order) { o.Amount++ }},
		{"created", "created", func(o *agent.Order) { o.Created = o.Created.Add(time.Nanosecond) }},
		{"history entry rewritten", "history", func(o *agent.Order) { o.History[0].Note = "rewritten" }},
		{"history dropped", "history", func(o *agent.Order) { o.History = nil }},
		{"invalid", "negative attempt count", func(o *agent.Order) { o.Attempts = -1 }},
	} {
		_, err := s.UpdateOrder(ctx, "K1", func(o *agent.Order) error { c.change(o); return nil })
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
		assert.Contains(t, err.Error(), `"K1"`, c.name)
	}
	got, err := s.Order(ctx, "K1")
	require.NoError(t, err)
	assert.Equal(t, before, got)

	// Appending is what Order.To does.
	got, err = s.UpdateOrder(ctx, "K1", func(o *agent.Order) error {
		return o.To(agent.StateUnknown, t0.Add(time.Second), "timeout")
	})
	require.NoError(t, err)
	assert.Len(t, got.History, 2)
}

func TestUpdateOrderCallback(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	require.NoError(t, s.CreateOrder(ctx, sending("K1", t0, t0)))

	errAbort := fmt.Errorf("abort")
	_, err := s.UpdateOrder(ctx, "K1", func(o *agent.Order) error {
		o.State = agent.StatePaid
		return errAbort
	})
	assert.Same(t, errAbort, err, "fn's error comes back as it is")

	// A panic in fn is the caller's bug: it is raised again, not reported
	// as a damaged file, and nothing is written.
	assert.PanicsWithValue(t, "caller bug", func() {
		_, _ = s.UpdateOrder(ctx, "K1", func(o *agent.Order) error {
			o.State = agent.StatePaid
			panic("caller bug")
		})
	})
	got, err := s.Order(ctx, "K1")
	require.NoError(t, err)
	assert.Equal(t, agent.StateSending, got.State)

	_, err = s.UpdateOrder(ctx, "nope", func(*agent.Order) error { return nil })
	assert.ErrorIs(t, err, agent.ErrOrderNotFound)
}

func TestDueWalksTheUnfinishedIndex(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	for _, o := range []agent.Order{
		sending("C", t0, t0.Add(2*time.Minute)),
		sending("A", t0, t0.Add(time.Minute)),
		sending("B", t0, t0.Add(time.Minute)), // same instant as A: by number
		sending("Z", t0, time.Time{}),         // zero: due at once
		sending("LATE", t0, t0.Add(time.Hour)),
		payment("PAID", t0), // finished: never due
	} {
		if o.OrderNo == "PAID" {
			o.State = agent.StatePaid
		}
		require.NoError(t, s.CreateOrder(ctx, o))
	}

	due, err := s.Due(ctx, t0, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"Z"}, orderNos(due))
	due, err = s.Due(ctx, t0.Add(time.Minute), 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"Z", "A", "B"}, orderNos(due), "NextAttempt equal to now is due")
	due, err = s.Due(ctx, t0.Add(2*time.Minute), 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"Z", "A"}, orderNos(due))
	due, err = s.Due(ctx, farFuture, -1)
	require.NoError(t, err)
	assert.Equal(t, []string{"Z", "A", "B", "C", "LATE"}, orderNos(due))
	n, err := s.UnfinishedCount(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, n)

	// Postponing moves the entry; finishing removes it; a move between
	// unfinished states keeps it.
	_, err = s.UpdateOrder(ctx, "Z", func(o *agent.Order) error {
		o.NextAttempt = t0.Add(3 * time.Minute)
		return o.To(agent.StateUnknown, t0, "")
	})
	require.NoError(t, err)
	_, err = s.UpdateOrder(ctx, "A", func(o *agent.Order) error { return o.To(agent.StatePaid, t0, "") })
	require.NoError(t, err)
	_, err = s.UpdateOrder(ctx, "B", func(o *agent.Order) error { return o.To(agent.StateOrphanCharged, t0, "") })
	require.NoError(t, err)
	due, err = s.Due(ctx, farFuture, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"B", "C", "Z", "LATE"}, orderNos(due))
	n, err = s.UnfinishedCount(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	require.NoError(t, s.CheckAll(ctx))
}

func TestOrdersStateFilter(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	states := []agent.OrderState{agent.StateSending, agent.StatePaid, agent.StateUnknown, agent.StateVoided}
	var all []agent.Order
	for i := range 40 {
		o := sending(fmt.Sprintf("K%02d", i), t0.Add(time.Duration(i%13)*time.Minute), t0.Add(time.Duration(40-i)*time.Second))
		o.State = states[i%len(states)]
		require.NoError(t, s.CreateOrder(ctx, o))
		all = append(all, o)
	}
	// Newest first, ties by descending number: the reverse of
	// (created, order_no).
	slices.SortFunc(all, func(a, b agent.Order) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.OrderNo, a.OrderNo)
	})
	for _, f := range []agent.OrderFilter{
		{State: agent.StateSending},
		{State: agent.StateUnknown, Limit: 3},
		{State: agent.StateUnknown, From: t0.Add(2 * time.Minute), To: t0.Add(9 * time.Minute)},
		{State: agent.StatePaid, From: t0.Add(2 * time.Minute), To: t0.Add(9 * time.Minute), Limit: 4},
		{State: agent.StateVoided},
		{State: agent.StateRefunded},
		{From: t0.Add(5 * time.Minute), Limit: 7},
	} {
		var want []agent.Order
		for _, o := range all {
			if (f.State == "" || o.State == f.State) && (f.From.IsZero() || !o.Created.Before(f.From)) &&
				(f.To.IsZero() || o.Created.Before(f.To)) && (f.Limit <= 0 || len(want) < f.Limit) {
				want = append(want, o)
			}
		}
		got, err := s.Orders(ctx, f)
		require.NoError(t, err)
		assert.Equal(t, orderNos(want), orderNos(got), "%+v", f)
	}
	_, err := s.Orders(ctx, agent.OrderFilter{State: "not_found"})
	assert.Error(t, err, "an unknown state is a mistake, not an empty list")
}

// TestUnfinishedIndexProperty drives random creates and updates, legal and
// illegal, and checks after each step that the index-backed answers (Due,
// UnfinishedCount, Orders by unfinished state, OfflineExposure) equal what a
// full scan of a model says.
func TestUnfinishedIndexProperty(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	rng := rand.New(rand.NewChaCha8([32]byte{7}))
	nexts := []time.Time{{}, t0, t0.Add(time.Second), t0.Add(time.Minute), t0.Add(-time.Hour), t0.Add(24 * time.Hour)}
	model := map[string]agent.Order{}
	var numbers []string

	check := func(step int) {
		t.Helper()
		var want []agent.Order
		var exposure agent.OfflineExposure
		for _, o := range model {
			if o.State.Unfinished() {
				want = append(want, o)
			}
			if o.State == agent.StateOfflineAccepted {
				exposure.Count++
				exposure.Amount += o.Amount
			}
		}
		slices.SortFunc(want, func(a, b agent.Order) int {
			if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
				return c
			}
			return strings.Compare(a.OrderNo, b.OrderNo)
		})
		due, err := s.Due(ctx, farFuture, 0)
		require.NoError(t, err)
		require.Equal(t, orderNos(want), orderNos(due), "step %d", step)
		for i := range due {
			require.Equal(t, want[i].State, due[i].State, "step %d", step)
		}
		n, err := s.UnfinishedCount(ctx)
		require.NoError(t, err)
		require.Equal(t, len(want), n, "step %d", step)

		now := nexts[rng.IntN(len(nexts))]
		due, err = s.Due(ctx, now, 0)
		require.NoError(t, err)
		dueNow := []string{}
		for _, o := range want {
			if !o.NextAttempt.After(now) {
				dueNow = append(dueNow, o.OrderNo)
			}
		}
		require.Equal(t, dueNow, orderNos(due), "step %d: due at %s", step, now)

		e, err := s.OfflineExposure(ctx, "20230001", "20250314")
		require.NoError(t, err)
		require.Equal(t, exposure.Count, e.Count, "step %d", step)
		require.Equal(t, exposure.Amount, e.Amount, "step %d", step)
	}

	for step := range 300 {
		if len(numbers) == 0 || rng.IntN(4) == 0 {
			no := fmt.Sprintf("P%03d", step)
			o := sending(no, t0.Add(time.Duration(rng.IntN(100))*time.Second), nexts[rng.IntN(len(nexts))])
			o.State = agent.States()[rng.IntN(len(agent.States()))]
			o.Amount = money.Fen(1 + rng.IntN(5000))
			require.NoError(t, s.CreateOrder(ctx, o))
			model[no], numbers = o, append(numbers, no)
		} else {
			no := numbers[rng.IntN(len(numbers))]
			to := agent.States()[rng.IntN(len(agent.States()))]
			next := nexts[rng.IntN(len(nexts))]
			got, err := s.UpdateOrder(ctx, no, func(o *agent.Order) error {
				o.State, o.NextAttempt = to, next
				o.Attempts++
				return nil
			})
			if agent.CheckTransition(model[no].State, to) != nil {
				require.ErrorIs(t, err, agent.ErrIllegalTransition)
			} else {
				require.NoError(t, err)
				m := model[no]
				m.State, m.NextAttempt = to, next
				m.Attempts++
				model[no] = m
				require.Equal(t, to, got.State)
			}
		}
		check(step)
	}
	require.NoError(t, s.CheckAll(ctx))
}

func TestCardsAreStoredHashed(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s := openStore(t, path)
	const cardNo = "6222020200112233445"
	c := agent.CachedCard{Account: "20230001", AccType: "###", MaskedName: "张*", Balance: 2550, SeenAt: t0}

	_, ok, err := s.Card(ctx, "card", cardNo)
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, s.SaveCard(ctx, c, agent.Identity{Type: "card", ID: cardNo}))
	got, ok, err := s.Card(ctx, "card", cardNo)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, c, got)
	_, ok, err = s.Card(ctx, "sno", cardNo)
	require.NoError(t, err)
	assert.False(t, ok, "the id type is part of the identity")

	c.Lost, c.Balance = true, 0
	require.NoError(t, s.SaveCard(ctx, c, agent.Identity{Type: "card", ID: cardNo}), "replaces")
	got, _, err = s.Card(ctx, "card", cardNo)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	assert.Error(t, s.SaveCard(ctx, c, agent.Identity{Type: "card", ID: ""}))
	assert.Error(t, s.SaveCard(ctx, agent.CachedCard{}, agent.Identity{Type: "card", ID: cardNo}))
	require.NoError(t, s.Close())

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(raw, []byte(cardNo)), "the card number is nowhere in the file")
	assert.True(t, bytes.Contains(raw, []byte("20230001")), "(the test does look at the right bytes)")
}

func TestBillReports(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s := openStore(t, path)
	_, ok, err := s.BillReport(ctx, "20250314")
	require.NoError(t, err)
	assert.False(t, ok)

	r := agent.BillReport{
		Date: "20250314", Created: t0, State: agent.SettlementDone, Attempts: 1, JournalNet: 12345, BillNet: 12345,
		Counts:    map[agent.BillMatch]int{agent.BillMatched: 10, agent.BillJournalOnly: 1},
		Lines:     []agent.BillLine{{OrderNo: "K1", Match: agent.BillJournalOnly, JournalState: agent.StatePaid, JournalAmount: 100}},
		BillCount: 10, BillTotal: 12345,
	}
	require.NoError(t, s.SaveBillReport(ctx, r))
	r.Counts[agent.BillJournalOnly] = 0
	r.Lines = nil
	r.Created = t0.Add(time.Hour)
	require.NoError(t, s.SaveBillReport(ctx, r), "replaces the report of the same date")
	other := agent.BillReport{Date: "20250313", Created: t0, State: agent.SettlementFailed, Reason: "no bill yet", Attempts: 2}
	require.NoError(t, s.SaveBillReport(ctx, other))
	require.NoError(t, s.Close())

	s = openStore(t, path)
	got, ok, err := s.BillReport(ctx, "20250314")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, r, got)
	got, ok, err = s.BillReport(ctx, "20250313")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, other, got)

	assert.Error(t, s.SaveBillReport(ctx, agent.BillReport{Date: "2025-03-14", State: agent.SettlementDone}))
	assert.Error(t, s.SaveBillReport(ctx, agent.BillReport{Date: "20250314"}), "a report says how the day stands")
	_, _, err = s.BillReport(ctx, "yesterday")
	assert.Error(t, err)
}

func TestOfflineExposure(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	// The Day of each payment (payment: its creation in UTC+8) decides
	// the day it counts on.
	offlineOrder := func(no, account string, created time.Time, amount money.Fen) agent.Order {
		o := sending(no, created, created.Add(time.Minute))
		o.Account, o.Amount, o.State = account, amount, agent.StateOfflineAccepted
		return o
	}
	// 2025-03-13 23:30 UTC is 2025-03-14 07:30 in Beijing.
	morning := time.Date(2025, 3, 13, 23, 30, 0, 0, time.UTC)
	for _, o := range []agent.Order{
		offlineOrder("A1", "alice", morning, 1000),
		offlineOrder("A2", "alice", morning.Add(time.Hour), 250),
		offlineOrder("A0", "alice", morning.Add(-8*time.Hour), 700), // 13th, Beijing
		offlineOrder("B1", "bob", morning, 300),
	} {
		require.NoError(t, s.CreateOrder(ctx, o))
	}
	// Moving into offline_accepted counts as well; online outcomes do not.
	a3 := sending("A3", morning.Add(2*time.Hour), morning)
	a3.Account = "alice"
	require.NoError(t, s.CreateOrder(ctx, a3))
	_, err := s.UpdateOrder(ctx, "A3", func(o *agent.Order) error {
		return o.To(agent.StateOfflineAccepted, morning.Add(2*time.Hour), "platform unreachable")
	})
	require.NoError(t, err)
	require.NoError(t, s.CreateOrder(ctx, sending("A4", morning, morning)))
	_, err = s.UpdateOrder(ctx, "A4", func(o *agent.Order) error { return o.To(agent.StatePaid, morning, "") })
	require.NoError(t, err)
	// A refund is not exposure.
	refund := offlineOrder("R1", "alice", morning, 100)
	refund.Kind, refund.RefundOf = agent.KindRefund, "A4"
	require.NoError(t, s.CreateOrder(ctx, refund))

	e, err := s.OfflineExposure(ctx, "alice", "20250314")
	require.NoError(t, err)
	assert.Equal(t, agent.OfflineExposure{Count: 5, Amount: 1000 + 250 + 700 + 300 + 1234, CardDay: 1000 + 250 + 1234}, e)

	// Settling (paid or failed) ends the exposure but not the day's figure.
	_, err = s.UpdateOrder(ctx, "A1", func(o *agent.Order) error { return o.To(agent.StatePaid, morning, "") })
	require.NoError(t, err)
	_, err = s.UpdateOrder(ctx, "A2", func(o *agent.Order) error {
		return o.To(agent.StateFailedAfterOffline, morning, "60010")
	})
	require.NoError(t, err)
	_, err = s.UpdateOrder(ctx, "A3", func(o *agent.Order) error {
		o.Attempts++ // staying offline_accepted counts nothing again
		return nil
	})
	require.NoError(t, err)
	e, err = s.OfflineExposure(ctx, "alice", "20250314")
	require.NoError(t, err)
	assert.Equal(t, agent.OfflineExposure{Count: 3, Amount: 700 + 300 + 1234, CardDay: 1000 + 250 + 1234}, e)

	for account, day := range map[string]string{"alice": "20250313", "bob": "20250314"} {
		e, err = s.OfflineExposure(ctx, account, day)
		require.NoError(t, err)
		assert.Equal(t, map[string]money.Fen{"alice": 700, "bob": 300}[account], e.CardDay, account)
	}
	e, err = s.OfflineExposure(ctx, "carol", "20250314")
	require.NoError(t, err)
	assert.Zero(t, e.CardDay)
	_, err = s.OfflineExposure(ctx, "alice", "2025-03-14")
	assert.Error(t, err)

	// The Day decides the day, not the creation time: the store has no
	// zone of its own (here the caller's is UTC).
	utc := newJournal(t)
	a1 := offlineOrder("A1", "alice", morning, 1000)
	a1.Day = morning.Format("20060102")
	require.NoError(t, utc.CreateOrder(ctx, a1))
	e, err = utc.OfflineExposure(ctx, "alice", "20250313")
	require.NoError(t, err)
	assert.Equal(t, money.Fen(1000), e.CardDay)
	e, err = utc.OfflineExposure(ctx, "alice", "20250314")
	require.NoError(t, err)
	assert.Zero(t, e.CardDay)
}

// A payment counts on its card's day only with a Day: the store refuses one
// entering offline_accepted without it, naming the order, and writes
// nothing. Other orders need none.
func TestOfflineAcceptedPaymentNeedsDay(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	noDay := func(o agent.Order) agent.Order { o.Day = ""; return o }

	created := noDay(payment("K1", t0))
	created.State, created.NextAttempt = agent.StateOfflineAccepted, t0
	err := s.CreateOrder(ctx, created)
	require.ErrorContains(t, err, "no platform day")
	assert.ErrorContains(t, err, `"K1"`)
	_, err = s.Order(ctx, "K1")
	require.ErrorIs(t, err, agent.ErrOrderNotFound, "nothing written")

	require.NoError(t, s.CreateOrder(ctx, noDay(sending("K2", t0, t0))), "a payment online needs none")
	_, err = s.UpdateOrder(ctx, "K2", func(o *agent.Order) error {
		return o.To(agent.StateOfflineAccepted, t0, "platform unreachable")
	})
	require.ErrorContains(t, err, "no platform day")
	assert.ErrorContains(t, err, `"K2"`)
	got, err := s.Order(ctx, "K2")
	require.NoError(t, err)
	assert.Equal(t, agent.StateSending, got.State, "nothing written")
	// Set in the same update, it counts.
	_, err = s.UpdateOrder(ctx, "K2", func(o *agent.Order) error {
		o.Day = "20250314"
		return o.To(agent.StateOfflineAccepted, t0, "platform unreachable")
	})
	require.NoError(t, err)

	refund := noDay(sending("K3", t0, t0))
	refund.Kind, refund.RefundOf, refund.State = agent.KindRefund, "K2", agent.StateOfflineAccepted
	require.NoError(t, s.CreateOrder(ctx, refund), "a refund counts on no day")

	e, err := s.OfflineExposure(ctx, "20230001", "20250314")
	require.NoError(t, err)
	assert.Equal(t, agent.OfflineExposure{Count: 1, Amount: 1234, CardDay: 1234}, e)
	require.NoError(t, s.CheckAll(ctx))
}

func TestExportCSV(t *testing.T) {
	ctx := t.Context()
	s := newJournal(t)
	paid := payment("K2", t0.Add(time.Hour))
	paid.State, paid.OutID, paid.Code, paid.Updated, paid.Attempts = agent.StatePaid, "T77", "0", t0.Add(time.Hour+time.Second), 1
	paid.Amount = 5
	refund := payment("K3", t0.Add(2*time.Hour))
	refund.Kind, refund.RefundOf, refund.State, refund.Amount = agent.KindRefund, "K2", agent.StateUnknown, 120000
	refund.LastError = `read "tcp": timeout, again`
	for _, o := range []agent.Order{
		payment("K0", t0.Add(-time.Second)), // before the range
		payment("K1", t0),                   // first instant: in
		paid, refund,
		payment("K4", t0.Add(24*time.Hour)), // last instant: out
	} {
		require.NoError(t, s.CreateOrder(ctx, o))
	}
	var out bytes.Buffer
	require.NoError(t, s.ExportCSV(ctx, &out, t0, t0.Add(24*time.Hour), cst))
	assert.Equal(t, "order_no,kind,refund_of,state,amount,account,acctype,mercacc,termid,out_id,code,created,updated,attempts,last_error\n"+
		"K1,pay,,sending,12.34,20230001,###,1000001,17,,,2025-03-14T17:26:53+08:00,,0,\n"+
		"K2,pay,,paid,0.05,20230001,###,1000001,17,T77,0,2025-03-14T18:26:53+08:00,2025-03-14T18:26:54+08:00,1,\n"+
		`K3,refund,K2,unknown,1200.00,20230001,###,1000001,17,,,2025-03-14T19:26:53+08:00,,0,"read ""tcp"": timeout, again"`+"\n",
		out.String())

	out.Reset()
	require.NoError(t, s.ExportCSV(ctx, &out, time.Time{}, time.Time{}, cst))
	assert.Equal(t, 6, strings.Count(out.String(), "\n"), "zero bounds: everything")
	out.Reset()
	require.NoError(t, s.ExportCSV(ctx, &out, t0.Add(48*time.Hour), time.Time{}, cst))
	assert.Equal(t, 1, strings.Count(out.String(), "\n"), "only the header")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, s.ExportCSV(cancelled, &out, t0, time.Time{}, cst), context.Canceled)
}

func TestJournalMethodsHonourCancelledContext(t *testing.T) {
	s := newJournal(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.UpdateOrder(ctx, "X", func(*agent.Order) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.Orders(ctx, agent.OrderFilter{})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.Due(ctx, t0, 0)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.UnfinishedCount(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.OfflineExposure(ctx, "a", "20250314")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, s.SaveCard(ctx, agent.CachedCard{Account: "a"}, agent.Identity{Type: "card", ID: "1"}), context.Canceled)
	_, _, err = s.Card(ctx, "card", "1")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, s.SaveBillReport(ctx, agent.BillReport{Date: "20250314"}), context.Canceled)
	_, _, err = s.BillReport(ctx, "20250314")
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, s.CheckAll(ctx), context.Canceled)
}
