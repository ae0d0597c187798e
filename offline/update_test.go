package offline_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/offline"
)

// The day (platform-local, UTC+8) of t0 and of the orders below.
const day0 = "20250314"

// paidPayment is a payment the platform confirmed.
func paidPayment(no string) agent.Order {
	o := payment(no, t0)
	o.State = agent.StatePaid
	return o
}

// refundOf is a refund order of p just journalled, due at t0+1m.
func refundOf(p agent.Order, no string, amount money.Fen) agent.Order {
	r := sending(no, t0.Add(time.Second), t0.Add(time.Minute))
	r.Kind, r.RefundOf, r.Amount = agent.KindRefund, p.OrderNo, amount
	return r
}

// offlinePayment is a payment accepted while the platform was unreachable.
func offlinePayment(no string) agent.Order {
	o := sending(no, t0, t0.Add(time.Minute))
	o.State = agent.StateOfflineAccepted
	return o
}

// journalState is what a test compares before and after a transaction that
// must write nothing: every order, the unfinished work and the day's
// offline figure.
type journalState struct {
	orders   []agent.Order
	due      []string
	exposure agent.OfflineExposure
}

func stateOf(t *testing.T, s *offline.Store) journalState {
	t.Helper()
	ctx := t.Context()
	orders, err := s.Orders(ctx, agent.OrderFilter{})
	require.NoError(t, err)
	due, err := s.Due(ctx, farFuture, 0)
	require.NoError(t, err)
	e, err := s.OfflineExposure(ctx, "20230001", day0)
	require.NoError(t, err)
	require.NoError(t, s.CheckAll(ctx))
	return journalState{orders: orders, due: orderNos(due), exposure: e}
}

// startRefund is what the agent does in one transaction: create the refund
// and book it on its payment.
func startRefund(tx agent.JournalTx, r agent.Order) error {
	if err := tx.CreateOrder(r); err != nil {
		return err
	}
	_, err := tx.UpdateOrder(r.RefundOf, func(p *agent.Order) error {
		p.RefundsStarted++
		p.PendingRefunds = append(p.PendingRefunds, r.OrderNo)
		return nil
	})
	return err
}

func TestUpdateCommitsEveryWriteTogether(t *testing.T) {
	ctx := t.Context()
	path := t.TempDir() + "/kiosk.db"
	s := openStore(t, path)
	p := paidPayment("P1")
	require.NoError(t, s.CreateOrder(ctx, p))

	r := refundOf(p, "P1R1", 234)
	require.NoError(t, s.Update(ctx, func(tx agent.JournalTx) error {
		if err := startRefund(tx, r); err != nil {
			return err
		}
		// The transaction reads its own writes.
		got, err := tx.Order("P1R1")
		if err != nil {
			return err
		}
		assert.Equal(t, agent.StateSending, got.State)
		return tx.CreateOrder(offlinePayment("O1"))
	}))

	got, err := s.Order(ctx, "P1")
	require.NoError(t, err)
	assert.Equal(t, []string{"P1R1"}, got.PendingRefunds)
	assert.Equal(t, 1, got.RefundsStarted)
	st := stateOf(t, s)
	assert.Equal(t, []string{"O1", "P1R1"}, st.due)
	assert.Equal(t, agent.OfflineExposure{Count: 1, Amount: 1234, CardDay: 1234}, st.exposure)

	// The refund confirmed and credited in one transaction.
	at := t0.Add(time.Minute)
	require.NoError(t, s.Update(ctx, func(tx agent.JournalTx) error {
		if _, err := tx.UpdateOrder("P1R1", func(o *agent.Order) error { return o.To(agent.StatePaid, at, "confirmed") }); err != nil {
			return err
		}
		if _, err := tx.UpdateOrder("O1", func(o *agent.Order) error { return o.To(agent.StatePaid, at, "forwarded") }); err != nil {
			return err
		}
		_, err := tx.UpdateOrder("P1", func(o *agent.Order) error {
			o.PendingRefunds = slices.DeleteFunc(o.PendingRefunds, func(no string) bool { return no == "P1R1" })
			o.Refunded += 234
			return o.To(agent.StatePartiallyRefunded, at, "partly refunded by P1R1")
		})
		return err
	}))
	got, err = s.Order(ctx, "P1")
	require.NoError(t, err)
	assert.Nil(t, got.PendingRefunds)
	assert.Equal(t, money.Fen(234), got.Refunded)
	assert.Equal(t, agent.StatePartiallyRefunded, got.State)
	st = stateOf(t, s)
	assert.Empty(t, st.due)
	assert.Equal(t, agent.OfflineExposure{CardDay: 1234}, st.exposure, "settled, still counted on its day")

	require.NoError(t, s.Close())
	s = openStore(t, path)
	assert.Equal(t, st, stateOf(t, s), "survives reopening")
}

// journalWith is a new journal holding orders, and its state.
func journalWith(t *testing.T, orders ...agent.Order) (*offline.Store, journalState) {
	t.Helper()
	s := newJournal(t)
	for _, o := range orders {
		require.NoError(t, s.CreateOrder(t.Context(), o))
	}
	return s, stateOf(t, s)
}

func TestUpdateWritesNothingOnError(t *testing.T) {
	ctx := t.Context()
	p := paidPayment("P1")
	s, before := journalWith(t, p, offlinePayment("O1"))

	// Each callback writes to both payments and creates two orders (one of
	// them offline, which counts on the day) before it fails.
	writeAll := func(tx agent.JournalTx) error {
		if err := startRefund(tx, refundOf(p, "P1R1", 100)); err != nil {
			return err
		}
		if err := tx.CreateOrder(offlinePayment("O2")); err != nil {
			return err
		}
		_, err := tx.UpdateOrder("O1", func(o *agent.Order) error { return o.To(agent.StatePaid, t0, "") })
		return err
	}
	errAbort := errors.New("abort")
	for _, c := range []struct {
		name  string
		fail  func(tx agent.JournalTx) error
		check func(t *testing.T, run func() error)
	}{
		{"callback error", func(agent.JournalTx) error { return errAbort },
			func(t *testing.T, run func() error) { assert.Same(t, errAbort, run(), "returned as it is") }},
		{"error of an update callback", func(tx agent.JournalTx) error {
			_, err := tx.UpdateOrder("P1", func(o *agent.Order) error { o.Attempts++; return errAbort })
			return err
		}, func(t *testing.T, run func() error) { assert.Same(t, errAbort, run(), "returned as it is") }},
		{"panic", func(agent.JournalTx) error { panic("caller bug") },
			func(t *testing.T, run func() error) { assert.PanicsWithValue(t, "caller bug", func() { _ = run() }) }},
		{"panic in an update callback", func(tx agent.JournalTx) error {
			_, err := tx.UpdateOrder("P1", func(*agent.Order) error { panic("caller bug") })
			return err
		}, func(t *testing.T, run func() error) { assert.PanicsWithValue(t, "caller bug", func() { _ = run() }) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.check(t, func() error {
				return s.Update(ctx, func(tx agent.JournalTx) error {
					if err := writeAll(tx); err != nil {
						return err
					}
					return c.fail(tx)
				})
			})
			assert.Equal(t, before, stateOf(t, s), "nothing of the transaction is written")
		})
	}
}

func TestUpdateWrapsStoreErrors(t *testing.T) {
	ctx := t.Context()
	s, before := journalWith(t, paidPayment("P1"))

	for _, c := range []struct {
		name string
		want error
		fn   func(tx agent.JournalTx) error
	}{
		{"illegal transition", agent.ErrIllegalTransition, func(tx agent.JournalTx) error {
			_, err := tx.UpdateOrder("P1", func(o *agent.Order) error { o.State = agent.StateSending; return nil })
			return err
		}},
		{"read of an unknown order", agent.ErrOrderNotFound, func(tx agent.JournalTx) error {
			_, err := tx.Order("NOPE")
			return err
		}},
		{"update of an unknown order", agent.ErrOrderNotFound, func(tx agent.JournalTx) error {
			_, err := tx.UpdateOrder("NOPE", func(*agent.Order) error { return nil })
			return err
		}},
		{"duplicate of a stored order", agent.ErrOrderExists, func(tx agent.JournalTx) error {
			return tx.CreateOrder(paidPayment("P1"))
		}},
		{"duplicate within the transaction", agent.ErrOrderExists, func(tx agent.JournalTx) error {
			return tx.CreateOrder(offlinePayment("O1"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(ctx, func(tx agent.JournalTx) error {
				if err := tx.CreateOrder(offlinePayment("O1")); err != nil {
					return err
				}
				return c.fn(tx)
			})
			require.ErrorIs(t, err, c.want)
			assert.Regexp(t, `"(P1|NOPE|O1)"`, err.Error(), "names the order")
			assert.Equal(t, before, stateOf(t, s))
		})
	}

	// A refused write changes nothing even when the callback goes on: the
	// rest of the transaction is committed without it.
	require.NoError(t, s.Update(ctx, func(tx agent.JournalTx) error {
		_, err := tx.UpdateOrder("P1", func(o *agent.Order) error {
			o.Attempts = 7
			o.Refunded = o.Amount + 1
			return nil
		})
		require.Error(t, err)
		return tx.CreateOrder(offlinePayment("O1"))
	}))
	got, err := s.Order(ctx, "P1")
	require.NoError(t, err)
	assert.Equal(t, before.orders[0], got)
	_, err = s.Order(ctx, "O1")
	require.NoError(t, err)
	require.NoError(t, s.CheckAll(ctx))
}

func TestUpdateHonoursCancelledContext(t *testing.T) {
	s := newJournal(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := s.Update(ctx, func(agent.JournalTx) error { called = true; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, called)
}
