package offline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
)

// pay3 is a paid payment of 1234 fen, created at created0.
func pay3(no string) agent.Order {
	return agent.Order{
		OrderNo: no, Kind: agent.KindPay, Account: "20230001", AccType: "###", MercAcc: "1000001", TermID: "17",
		Amount: 1234, Created: created0, Updated: created0, State: agent.StatePaid,
	}
}

// refund3 is a refund order of payment p in state.
func refund3(p agent.Order, no string, amount money.Fen, state agent.OrderState) agent.Order {
	r := pay3(no)
	r.Kind, r.RefundOf, r.Amount, r.State = agent.KindRefund, p.OrderNo, amount, state
	r.Created = p.Created.Add(time.Minute)
	r.Updated = r.Created.Add(time.Second)
	if state.Unfinished() {
		r.NextAttempt = r.Updated.Add(time.Minute)
	}
	return r
}

// with returns o changed by fn, for building table rows.
func with(o agent.Order, fn func(*agent.Order)) agent.Order {
	fn(&o)
	return o
}

// writeOrders writes orders as they are, with their index entries and
// without the store's update checks (a file a bug or a hand edit left), and
// sets the schema version (below 3, without state_counts, which schema 3
// added); it returns the path of the closed file.
func writeOrders(t *testing.T, version uint64, orders ...agent.Order) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosk.db")
	s, err := Open(path)
	require.NoError(t, err)
	require.NoError(t, s.db.Update(func(tx *bolt.Tx) error {
		j := s.journal(tx)
		for _, o := range orders {
			raw, err := encodeOrder(o)
			if err != nil {
				return err
			}
			if err := j.create(o, raw); err != nil {
				return err
			}
		}
		if version < 3 {
			if err := tx.DeleteBucket([]byte(bucketStateCounts)); err != nil {
				return err
			}
		}
		return putSchemaVersion(tx, version)
	}))
	require.NoError(t, s.Close())
	return path
}

func TestValidateOrderSchema3(t *testing.T) {
	p := pay3("P1")
	r := refund3(p, "P1R1", 100, agent.StateSending)
	for _, c := range []struct {
		name string
		o    agent.Order
		want string // "" valid
	}{
		{"refunded in full", with(p, func(o *agent.Order) { o.Refunded = o.Amount }), ""},
		{"refunded more than paid", with(p, func(o *agent.Order) { o.Refunded = o.Amount + 1 }), "refunded 1235 fen of a 1234 fen payment"},
		{"negative refund count", with(p, func(o *agent.Order) { o.RefundsStarted = -1 }), "negative refund count"},
		{"negative online age", with(p, func(o *agent.Order) { o.OnlineAge = -time.Second }), "negative online age"},
		{"payment with pending refunds", with(p, func(o *agent.Order) { o.PendingRefunds, o.RefundsStarted = []string{"P1R1"}, 1 }), ""},
		{"refund with pending refunds", with(r, func(o *agent.Order) { o.PendingRefunds = []string{"X"} }), "a refund order with refunds of its own"},
		{"refund with a refund count", with(r, func(o *agent.Order) { o.RefundsStarted = 1 }), "a refund order with refunds of its own"},
		{"refund with the platform's word", with(r, func(o *agent.Order) { o.PlatformHas, o.OnlineAge = true, time.Hour }), ""},
	} {
		t.Run(c.name, func(t *testing.T) { requireValidation(t, c.o, c.want) })
	}
}

// requireValidation checks that o is valid when want is "", else that
// validateOrder refuses it with want and encodeOrder too, naming it.
func requireValidation(t *testing.T, o agent.Order, want string) {
	t.Helper()
	_, err := encodeOrder(o)
	if want == "" {
		assert.NoError(t, validateOrder(o))
		assert.NoError(t, err)
		return
	}
	assert.ErrorContains(t, validateOrder(o), want)
	assert.ErrorContains(t, err, want, "nothing invalid is written")
	assert.ErrorContains(t, err, o.OrderNo)
}

func TestOrderRecordFormatSchema3(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	o := pay3("P1")
	o.State, o.Refunded = agent.StatePartiallyRefunded, 200
	o.PendingRefunds, o.RefundsStarted = []string{"P1R2", "P1R3"}, 3
	o.PlatformHas, o.OnlineAge, o.LastAnswer = true, 90*time.Minute+time.Nanosecond, time.Date(2025, 3, 14, 18, 0, 0, 0, cst)
	raw, err := encodeOrder(o)
	require.NoError(t, err)
	// The names and encodings are the file format.
	assert.JSONEq(t, `{"order_no":"P1","kind":"pay","account":"20230001","acctype":"###","mercacc":"1000001",
		"termid":"17","amount_fen":1234,"created":"2025-03-14T09:00:00Z","updated":"2025-03-14T09:00:00Z",
		"state":"partially_refunded","refunded_fen":200,
		"pending_refunds":["P1R2","P1R3"],"refunds_started":3,"platform_has":true,
		"online_age_ns":5400000000001,"last_answer":"2025-03-14T10:00:00Z","outcome":""}`, string(raw))
	got, err := decodeOrder(raw)
	require.NoError(t, err)
	want := o
	want.LastAnswer = o.LastAnswer.UTC()
	assert.Equal(t, want, got)

	// An empty list is not written and comes back nil, so that a record
	// read and written again compares equal.
	o.PendingRefunds = []string{}
	raw, err = encodeOrder(o)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "pending_refunds")
	got, err = decodeOrder(raw)
	require.NoError(t, err)
	assert.Nil(t, got.PendingRefunds)
	got, err = decodeOrder([]byte(`{"order_no":"P1","kind":"pay","account":"1","acctype":"","mercacc":"","termid":"",
		"amount_fen":1,"created":"2025-03-14T09:00:00Z","state":"paid","pending_refunds":[]}`))
	require.NoError(t, err)
	assert.Nil(t, got.PendingRefunds, "a stored empty list too")

	// Through the store, and across a reopen.
	path := writeOrders(t, SchemaVersion, want)
	s, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	got, err = s.Order(t.Context(), "P1")
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// What starts or counts a refund only goes one way; what a customer was
// told (schema 4), and the day an order counts on, are written once:
// setting them from empty is allowed, changing or clearing them is not.
func TestUpdateOrderOneWayFields(t *testing.T) {
	orphan := with(pay3("P1"), func(o *agent.Order) {
		o.State, o.RefundOrderNo, o.NextAttempt = agent.StateOrphanCharged, "P1R1", created0
		o.Refunded, o.RefundsStarted, o.PlatformHas = 100, 1, true
		o.PendingRefunds = []string{"P1R1"}
	})
	declined := with(pay3("P1"), func(o *agent.Order) {
		o.State, o.Code, o.Day = agent.StateDeclined, "60010", "20250314"
		o.Outcome = agent.Outcome{Kind: agent.OutcomeDeclined, Reason: "60010"}
	})
	for _, c := range []struct {
		name   string
		old    agent.Order
		change func(*agent.Order)
		want   string // "" allowed
	}{
		{"orphan's refund number changed", orphan, func(o *agent.Order) { o.RefundOrderNo = "P1R2" }, "must not change the refund number P1R1"},
		{"orphan's refund number cleared", orphan, func(o *agent.Order) { o.RefundOrderNo = "" }, "must not change the refund number P1R1"},
		{"refund number set", pay3("P1"), func(o *agent.Order) { o.RefundOrderNo = "P1R1" }, ""},
		{"refunded lowered", orphan, func(o *agent.Order) { o.Refunded-- }, "must not lower the refunded amount (100 fen to 99 fen)"},
		{"refunded raised", orphan, func(o *agent.Order) { o.Refunded = o.Amount }, ""},
		{"refund count lowered", orphan, func(o *agent.Order) { o.RefundsStarted = 0 }, "must not lower the refund count"},
		{"refund count raised", orphan, func(o *agent.Order) { o.RefundsStarted = 2 }, ""},
		{"platform's word forgotten", orphan, func(o *agent.Order) { o.PlatformHas = false }, "must not forget that the platform has the order"},
		{"platform's word set", pay3("P1"), func(o *agent.Order) { o.PlatformHas = true }, ""},
		{"pending list emptied", orphan, func(o *agent.Order) { o.PendingRefunds = nil }, ""},
		{"give-up clock restarted", with(orphan, func(o *agent.Order) { o.OnlineAge, o.LastAnswer = time.Hour, created0 }),
			func(o *agent.Order) { o.OnlineAge, o.LastAnswer = 0, time.Time{} }, ""},
		{"outcome set with the state", sending3("P1"), func(o *agent.Order) {
			o.Outcome = agent.Outcome{Kind: agent.OutcomePaid}
			_ = o.To(agent.StatePaid, created0, "confirmed")
		}, ""},
		{"outcome kept", declined, func(o *agent.Order) { o.Attempts++ }, ""},
		{"outcome changed", declined, func(o *agent.Order) { o.Outcome = agent.Outcome{Kind: agent.OutcomePaid} },
			`must not change what the customer was told (outcome declined/60010 to "paid")`},
		{"outcome reason changed", declined, func(o *agent.Order) { o.Outcome.Reason = "60011" },
			`must not change what the customer was told (outcome declined/60010 to "declined/60011")`},
		{"outcome cleared", declined, func(o *agent.Order) { o.Outcome = agent.Outcome{} },
			`must not change what the customer was told (outcome declined/60010 to "")`},
		{"outcome changed with a later state", declined, func(o *agent.Order) {
			o.Outcome = agent.Outcome{Kind: agent.OutcomeWillConfirm}
			_ = o.To(agent.StateOrphanCharged, created0, "found on the bill")
		}, "must not change what the customer was told"},
		{"day set", pay3("P1"), func(o *agent.Order) { o.Day = "20250314" }, ""},
		{"day changed", declined, func(o *agent.Order) { o.Day = "20250315" },
			`must not change the order's platform day 20250314 (to "20250315")`},
		{"day cleared", declined, func(o *agent.Order) { o.Day = "" },
			`must not change the order's platform day 20250314 (to "")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(writeOrders(t, SchemaVersion, c.old))
			require.NoError(t, err)
			defer func() { require.NoError(t, s.Close()) }()
			ctx := t.Context()
			before, err := s.Order(ctx, "P1")
			require.NoError(t, err)
			after, err := s.UpdateOrder(ctx, "P1", func(o *agent.Order) error { c.change(o); return nil })
			if c.want == "" {
				require.NoError(t, err)
				want := before
				c.change(&want)
				assert.Equal(t, want, after)
				return
			}
			assert.ErrorContains(t, err, c.want)
			assert.ErrorContains(t, err, `"P1"`)
			got, err := s.Order(ctx, "P1")
			require.NoError(t, err)
			assert.Equal(t, before, got, "a refused update changes nothing")
		})
	}
}

// writeSchema2 builds a schema-2 file: today's layout, orders without the
// fields schema 3 added, schema_version 2.
func writeSchema2(t *testing.T, orders ...agent.Order) string {
	t.Helper()
	for _, o := range orders {
		raw, err := encodeOrder(o)
		require.NoError(t, err)
		for _, field := range []string{"pending_refunds", "refunds_started", "platform_has", "online_age_ns", "last_answer"} {
			require.NotContains(t, string(raw), field, "%s is a schema-2 record", o.OrderNo)
		}
	}
	path := writeOrders(t, 2, orders...)
	require.Equal(t, uint64(2), schemaVersionOf(t, path))
	return path
}

func TestMigrateSchema2(t *testing.T) {
	ctx := t.Context()
	// A: refunded in part, the refund confirmed and credited.
	a := with(pay3("A"), func(o *agent.Order) { o.State, o.Refunded = agent.StatePartiallyRefunded, 200 })
	ar1 := refund3(a, "AR1", 200, agent.StatePaid)
	// B: its refund unanswered: must become pending.
	b := pay3("B")
	br1 := refund3(b, "BR1", 300, agent.StateUnknown)
	// C: a crash between schema 2's two commits: the refund confirmed, the
	// payment never credited. Its second refund was declined.
	c := pay3("C")
	cr1 := refund3(c, "CR1", 1234, agent.StatePaid)
	cr2 := refund3(c, "CR2", 1234, agent.StateDeclined)
	// D: an orphan charge whose refund went through, same crash.
	d := with(pay3("D"), func(o *agent.Order) {
		o.State, o.RefundOrderNo, o.NextAttempt = agent.StateOrphanCharged, "DR1", created0.Add(time.Hour)
	})
	dr1 := refund3(d, "DR1", 1234, agent.StatePaid)
	// E: the crash on a partial refund, with ten refunds to tell the latest
	// from the last in key order (E-R10 sorts before E-R2).
	e := with(pay3("E"), func(o *agent.Order) { o.Amount = 10000 })
	var es []agent.Order
	for i := 1; i <= 10; i++ {
		r := refund3(e, fmt.Sprintf("E-R%d", i), 100, agent.StatePaid)
		r.Updated = r.Created.Add(time.Duration(i) * time.Second)
		es = append(es, r)
	}
	// F: more confirmed than was paid: credited up to its amount.
	f := pay3("F")
	fr1 := refund3(f, "FR1", 1000, agent.StatePaid)
	fr2 := refund3(f, "FR2", 1000, agent.StatePaid)
	// G: no refunds; X1: a refund of a payment this journal does not hold.
	g := pay3("G")
	x1 := refund3(pay3("X"), "X1", 100, agent.StateUnknown)

	path := writeSchema2(t, append([]agent.Order{a, ar1, b, br1, c, cr1, cr2, d, dr1, e, f, fr1, fr2, g, x1}, es...)...)
	s, err := Open(path)
	require.NoError(t, err)

	get := func(no string) agent.Order {
		t.Helper()
		o, err := s.Order(ctx, no)
		require.NoError(t, err)
		return o
	}
	credit := func(p agent.Order, r agent.Order, to agent.OrderState, refunded money.Fen) agent.Order {
		p.History = append(p.History, agent.Transition{At: r.Updated, From: p.State, To: to,
			Note: "credited on upgrade: refund " + r.OrderNo + " was confirmed before a crash"})
		p.State, p.Refunded, p.Updated = to, refunded, r.Updated
		return p
	}
	a.RefundsStarted = 1
	assert.Equal(t, a, get("A"), "confirmed and credited: only counted")
	b.RefundsStarted, b.PendingRefunds = 1, []string{"BR1"}
	assert.Equal(t, b, get("B"), "unanswered: pending")
	c = credit(c, cr1, agent.StateRefunded, 1234)
	c.RefundsStarted = 2
	assert.Equal(t, c, get("C"), "confirmed, not credited: credited")
	d = credit(d, dr1, agent.StateOrphanRefunded, 1234)
	d.RefundsStarted = 1
	assert.Equal(t, d, get("D"), "an orphan refunded")
	e = credit(e, es[9], agent.StatePartiallyRefunded, 1000)
	e.RefundsStarted = 10
	assert.Equal(t, e, get("E"), "credited as of the latest refund")
	gotF := get("F")
	assert.Equal(t, agent.StateRefunded, gotF.State)
	assert.Equal(t, f.Amount, gotF.Refunded, "never more than was paid")
	assert.Equal(t, "refunds of 2000 fen were confirmed for a 1234 fen payment", gotF.LastError)
	for _, o := range append([]agent.Order{g, ar1, br1, cr1, x1}, es...) {
		assert.Equal(t, o, get(o.OrderNo), "%s unchanged", o.OrderNo)
	}

	due, err := s.Due(ctx, created0.Add(24*time.Hour), 0)
	require.NoError(t, err, "the unfinished index follows the credit")
	var nos []string
	for _, o := range due {
		nos = append(nos, o.OrderNo)
	}
	assert.ElementsMatch(t, []string{"BR1", "X1"}, nos, "the orphan is finished")
	// Counted after the credits: C, D and F moved.
	want := map[agent.OrderState]int{
		agent.StatePaid:              17, // AR1, B, CR1, DR1, E-R1…E-R10, FR1, FR2, G
		agent.StatePartiallyRefunded: 2,  // A, E
		agent.StateRefunded:          2,  // C, F
		agent.StateOrphanRefunded:    1,  // D
		agent.StateUnknown:           2,  // BR1, X1
		agent.StateDeclined:          1,  // CR2
	}
	requireCounts(t, s, want, "upgraded")
	require.NoError(t, s.Close())
	assert.Equal(t, uint64(SchemaVersion), schemaVersionOf(t, path))
	s, err = Open(path)
	require.NoError(t, err)
	requireCounts(t, s, want, "reopened")
	require.NoError(t, s.Close())
}

func TestMigrateSchema2RefusesBadFileAndLeavesIt(t *testing.T) {
	p, q := pay3("P"), pay3("Q")
	pr1 := refund3(p, "PR1", 100, agent.StatePaid)
	for _, c := range []struct {
		name   string
		orders []agent.Order
		edit   func(t *testing.T, path string)
	}{
		// Found while the payments are rewritten: others may have been
		// written when the refund of a refund fails.
		{"refund of a refund", []agent.Order{p, pr1, q, refund3(q, "QR1", 100, agent.StateUnknown),
			refund3(pr1, "PR1R1", 100, agent.StatePaid)}, nil},
		// Schema 3 refuses what a damaged schema-2 file holds.
		{"refunded more than paid", []agent.Order{p}, refunded("P", p.Amount+1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeSchema2(t, c.orders...)
			if c.edit != nil {
				c.edit(t, path)
			}
			content, err := os.ReadFile(path)
			require.NoError(t, err)
			requireRefusedUnchanged(t, content, ErrNotStore)
		})
	}
}

// editOrder changes one stored order record with raw bbolt, bypassing
// every check of the store.
func editOrder(t *testing.T, path, no string, fn func(*orderRecord)) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketOrders))
		var rec orderRecord
		if err := decodeStrict(b.Get([]byte(no)), &rec); err != nil {
			return err
		}
		fn(&rec)
		raw, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(no), raw)
	}))
}

func TestCheckAllFindsRefundBookkeepingOutOfStep(t *testing.T) {
	p := with(pay3("P"), func(o *agent.Order) {
		o.State, o.Refunded, o.RefundsStarted = agent.StatePartiallyRefunded, 100, 3
		o.PendingRefunds = []string{"PR3"}
	})
	q := pay3("Q")
	healthy := []agent.Order{
		p, q,
		refund3(p, "PR1", 100, agent.StatePaid),
		refund3(p, "PR2", 200, agent.StateDeclined),
		refund3(p, "PR3", 300, agent.StateUnknown),
	}
	require.NoError(t, checkFile(t, writeOrders(t, SchemaVersion, healthy...)))

	for _, c := range []struct {
		name string
		edit func(t *testing.T, path string)
		want string
	}{
		{"pending refund that does not exist", pending("P", "PR3", "PR9"),
			`payment "P" lists "PR9" as a pending refund, but there is no such order`},
		{"pending refund that is a payment", pending("P", "PR3", "Q"),
			`payment "P" lists "Q" as a pending refund, but that order is not a refund`},
		{"pending refund of another payment", pending("Q", "PR3"),
			`payment "Q" lists "PR3" as a pending refund, but that is a refund of "P"`},
		{"pending refund already paid", pending("P", "PR3", "PR1"),
			`payment "P" lists "PR1" as a pending refund, but that refund is paid`},
		{"pending refund declined", pending("P", "PR3", "PR2"),
			`payment "P" lists "PR2" as a pending refund, but that refund is declined`},
		{"unconfirmed refund not pending", pending("P"),
			`refund "PR3" (unknown) is missing from the pending refunds of payment "P"`},
		{"refunded amount short", refunded("P", 0),
			`payment "P" has 0 fen refunded, but its confirmed (paid) refund orders sum to 100 fen`},
		{"refunded amount over", refunded("P", 150),
			`payment "P" has 150 fen refunded, but its confirmed (paid) refund orders sum to 100 fen`},
		{"refunded without a refund", refunded("Q", 50),
			`payment "Q" has 50 fen refunded, but its confirmed (paid) refund orders sum to 0 fen`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeOrders(t, SchemaVersion, healthy...)
			c.edit(t, path)
			err := checkFile(t, path)
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, c.want)
			t.Log(err)
		})
	}
}

// pending returns an edit setting payment no's pending refunds.
func pending(no string, refunds ...string) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		editOrder(t, path, no, func(rec *orderRecord) { rec.PendingRefunds = refunds })
	}
}

// refunded returns an edit setting payment no's refunded amount.
func refunded(no string, fen money.Fen) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		editOrder(t, path, no, func(rec *orderRecord) { rec.RefundedFen = int64(fen) })
	}
}

// checkFile runs CheckAll on the file at path and leaves it closed.
func checkFile(t *testing.T, path string) error {
	t.Helper()
	s, err := Open(path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	return s.CheckAll(t.Context())
}
