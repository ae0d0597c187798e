package offline

import (
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/campuspos/kiosk/agent"
)

// told is a payment created at created0 that went from sending to state,
// which the customer was shown.
func told(no string, state agent.OrderState) agent.Order {
	return with(pay3(no), func(o *agent.Order) {
		o.State = agent.StateSending
		o.History = []agent.Transition{{At: created0, To: agent.StateSending, Note: "journalled"}}
		_ = o.To(state, created0.Add(time.Second), "")
	})
}

func TestValidateOrderSchema4(t *testing.T) {
	p := pay3("P1")
	r := refund3(p, "P1R1", 100, agent.StatePaid)
	type row struct {
		name string
		o    agent.Order
		want string // "" valid
	}
	rows := []row{
		{"declined with its code", with(p, func(o *agent.Order) {
			o.Outcome = agent.Outcome{Kind: agent.OutcomeDeclined, Reason: "60010"}
		}), ""},
		{"unknown outcome", with(p, func(o *agent.Order) { o.Outcome.Kind = "maybe" }), `unknown outcome "maybe"`},
		{"reason without an outcome", with(p, func(o *agent.Order) { o.Outcome.Reason = "60010" }),
			`an outcome reason ("60010") without an outcome`},
		{"refund with an outcome", with(r, func(o *agent.Order) { o.Outcome.Kind = agent.OutcomePaid }),
			"a refund order with an outcome (paid)"},
		{"refund with a day", with(r, func(o *agent.Order) { o.Day = "20250314" }), ""},
		{"payment with a day", with(p, func(o *agent.Order) { o.Day = "20250314" }), ""},
		{"day with dashes", with(p, func(o *agent.Order) { o.Day = "2025-03-14" }), `platform day: day "2025-03-14" is not yyyyMMdd`},
		{"day that does not exist", with(p, func(o *agent.Order) { o.Day = "20250230" }), `platform day: day "20250230" is not yyyyMMdd`},
	}
	for _, k := range agent.Outcomes() {
		rows = append(rows, row{"payment told " + string(k), with(p, func(o *agent.Order) { o.Outcome.Kind = k }), ""})
	}
	for _, c := range rows {
		t.Run(c.name, func(t *testing.T) { requireValidation(t, c.o, c.want) })
	}
}

func TestOrderRecordFormatSchema4(t *testing.T) {
	o := with(pay3("P1"), func(o *agent.Order) {
		o.State, o.Code = agent.StateDeclined, "60010"
		o.Outcome = agent.Outcome{Kind: agent.OutcomeDeclined, Reason: "60010"}
		o.Day = "20250314"
	})
	raw, err := encodeOrder(o)
	require.NoError(t, err)
	// The names and encodings are the file format.
	assert.JSONEq(t, `{"order_no":"P1","kind":"pay","account":"20230001","acctype":"###","mercacc":"1000001",
		"termid":"17","amount_fen":1234,"created":"2025-03-14T09:00:00Z","updated":"2025-03-14T09:00:00Z",
		"state":"declined","code":"60010","outcome":"declined","outcome_reason":"60010","day":"20250314"}`, string(raw))
	got, err := decodeOrder(raw)
	require.NoError(t, err)
	assert.Equal(t, o, got)

	// A schema-3 record is a schema-4 record with neither.
	got, err = decodeOrder([]byte(`{"order_no":"P1","kind":"pay","account":"1","acctype":"","mercacc":"","termid":"",
		"amount_fen":1,"created":"2025-03-14T09:00:00Z","state":"offline_accepted","platform_has":true}`))
	require.NoError(t, err)
	assert.Zero(t, got.Outcome)
	assert.Empty(t, got.Day)
}

// writeSchema3 builds a schema-3 file: today's layout, orders without the
// fields schema 4 added. A payment accepted offline is counted in
// offline_day on its Day, as the schema-3 store counted it (on its
// creation day in the platform's zone), and its record keeps no Day.
func writeSchema3(t *testing.T, orders ...agent.Order) string {
	t.Helper()
	path := writeOrders(t, 3, orders...)
	for _, o := range orders {
		require.Zero(t, o.Outcome, "%s: schema 3 has no outcomes", o.OrderNo)
		editOrder(t, path, o.OrderNo, func(rec *orderRecord) { rec.Day, rec.Outcome = "", nil })
	}
	for no, rec := range rawBuckets(t, path)[bucketOrders] {
		for _, field := range []string{`"outcome"`, `"outcome_reason"`, `"day"`} {
			require.NotContains(t, rec, field, "%s is a schema-3 record", no)
		}
	}
	require.Equal(t, uint64(3), schemaVersionOf(t, path))
	return path
}

// rawBuckets returns every key and value of every top-level bucket of the
// closed file at path, as bbolt holds them.
func rawBuckets(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	all := map[string]map[string]string{}
	require.NoError(t, db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			kv := map[string]string{}
			all[string(name)] = kv
			return b.ForEach(func(k, v []byte) error {
				kv[string(k)] = string(v)
				return nil
			})
		})
	}))
	return all
}

func TestMigrateSchema3(t *testing.T) {
	ctx := t.Context()
	// Told paid; refunded in part later, which is not what was shown.
	paid := with(told("PAID", agent.StatePaid), func(o *agent.Order) {
		o.Refunded, o.RefundsStarted = 100, 1
		_ = o.To(agent.StatePartiallyRefunded, created0.Add(time.Hour), "partly refunded by PAIDR1")
	})
	refund := with(refund3(paid, "PAIDR1", 100, agent.StatePaid), func(o *agent.Order) {
		o.History = []agent.Transition{{At: o.Created, To: agent.StateSending}, {At: o.Updated, From: agent.StateSending, To: agent.StatePaid}}
	})
	// Accepted offline when the platform was known to be down, not yet
	// forwarded: created in offline_accepted, counted on its day.
	offl := with(pay3("OFFL"), func(o *agent.Order) {
		o.State, o.NextAttempt, o.Day = agent.StateOfflineAccepted, created0.Add(time.Minute), "20250314"
		o.History = []agent.Transition{{At: created0, To: agent.StateOfflineAccepted, Note: "platform unreachable: accepted offline"}}
	})
	declined := with(told("DECL", agent.StateDeclined), func(o *agent.Order) { o.Code, o.Message = "60010", "余额不足" })
	// Told "will be confirmed"; confirmed later.
	unknown := with(told("UNKN", agent.StateUnknown), func(o *agent.Order) {
		_ = o.To(agent.StatePaid, created0.Add(time.Minute), "pay.query: paid")
	})
	refused := with(pay3("VOID"), func(o *agent.Order) {
		o.State, o.Code, o.Message = agent.StateVoided, agent.OfflineRefusedCode, agent.OfflineAmount
		o.History = []agent.Transition{{At: created0, To: agent.StateVoided, Note: "refused offline"}}
	})
	// Told nothing: in flight at the crash, or from before histories.
	inFlight := with(pay3("SEND"), func(o *agent.Order) {
		o.State, o.NextAttempt = agent.StateSending, created0.Add(time.Minute)
		o.History = []agent.Transition{{At: created0, To: agent.StateSending, Note: "journalled"}}
	})
	noHistory := pay3("OLD")

	orders := []agent.Order{paid, refund, offl, declined, unknown, refused, inFlight, noHistory}
	path := writeSchema3(t, orders...)
	before := rawBuckets(t, path)

	s, err := Open(path)
	require.NoError(t, err)
	wantOutcome := map[string]agent.Outcome{
		"PAID": {Kind: agent.OutcomePaid},
		"OFFL": {Kind: agent.OutcomeRecorded},
		"DECL": {Kind: agent.OutcomeDeclined, Reason: "60010"},
		"UNKN": {Kind: agent.OutcomeWillConfirm},
		"VOID": {Kind: agent.OutcomeRefusedOffline},
	}
	for _, o := range orders {
		got, err := s.Order(ctx, o.OrderNo)
		require.NoError(t, err)
		want := o
		want.Day = "" // schema 3 kept none
		want.Outcome = wantOutcome[o.OrderNo]
		assert.Equal(t, want, got, "%s: only the outcome is new", o.OrderNo)
	}
	e, err := s.OfflineExposure(ctx, "20230001", "20250314")
	require.NoError(t, err)
	assert.Equal(t, agent.OfflineExposure{Count: 1, Amount: 1234, CardDay: 1234}, e, "still counted on its day")
	requireCounts(t, s, map[agent.OrderState]int{
		agent.StatePartiallyRefunded: 1, agent.StatePaid: 3, agent.StateOfflineAccepted: 1,
		agent.StateDeclined: 1, agent.StateVoided: 1, agent.StateSending: 1,
	}, "upgraded")
	require.NoError(t, s.Close())
	assert.Equal(t, uint64(SchemaVersion), schemaVersionOf(t, path))

	// On disk: nothing but the schema version changed: the outcomes are
	// read from the histories, so the upgrade costs the same for any size
	// of journal.
	after := rawBuckets(t, path)
	delete(before[bucketMeta], keySchemaVersion)
	delete(after[bucketMeta], keySchemaVersion)
	assert.Equal(t, before, after)

	// Opening again finds nothing to do; the order accepted offline goes
	// on without a Day (it is counted already).
	s, err = Open(path)
	require.NoError(t, err)
	_, err = s.UpdateOrder(ctx, "OFFL", to(agent.StatePaid))
	require.NoError(t, err)
	require.NoError(t, s.CheckAll(ctx))
	require.NoError(t, s.Close())
	// The write stored the outcome read from the history.
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(rawBuckets(t, path)[bucketOrders]["OFFL"]), &rec))
	assert.Equal(t, string(agent.OutcomeRecorded), rec["outcome"])
}

// A record of schema 4 keeps the outcome it was written with, none
// included: only a record without the field (schema 3) is read from its
// history. An orphan the reconciler voided was told nothing, though its
// history reads like a payment that never reached the platform.
func TestOutcomeWrittenIsKept(t *testing.T) {
	o := told("ORPH", agent.StateSending)
	o.History = o.History[:1]
	require.NoError(t, o.To(agent.StateVoided, created0.Add(time.Minute), "pay.query: no such order"))
	raw, err := encodeOrder(o)
	require.NoError(t, err)
	got, err := decodeOrder(raw)
	require.NoError(t, err)
	assert.Empty(t, got.Outcome.Kind, "told nothing, as written")
	var rec map[string]any
	require.NoError(t, json.Unmarshal(raw, &rec))
	delete(rec, "outcome")
	legacy, err := json.Marshal(rec)
	require.NoError(t, err)
	got, err = decodeOrder(legacy)
	require.NoError(t, err)
	assert.Equal(t, agent.OutcomeNotCharged, got.Outcome.Kind, "a schema-3 record: read from its history")
}

// The upgrade reads no record, so a damaged one is neither rewritten nor
// hidden: it is reported where a schema-4 file's would be, when it is read
// (kioskctl check, CheckAll).
func TestMigrateSchema3LeavesDamageToTheCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*orderRecord)
	}{
		{"unknown state", func(rec *orderRecord) { rec.State = "lost" }},
		{"misfiled record", func(rec *orderRecord) { rec.OrderNo = "Q" }},
		{"refunded more than paid", func(rec *orderRecord) { rec.RefundedFen = rec.AmountFen + 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeSchema3(t, told("P", agent.StatePaid))
			editOrder(t, path, "P", c.edit)
			before := rawBuckets(t, path)[bucketOrders]
			s, err := Open(path)
			require.NoError(t, err)
			assert.ErrorIs(t, s.CheckAll(t.Context()), ErrBadRecord)
			require.NoError(t, s.Close())
			assert.Equal(t, before, rawBuckets(t, path)[bucketOrders], "nothing rewritten")
		})
	}
}

func TestCheckAllFindsBadOutcomeAndDay(t *testing.T) {
	p := with(told("P", agent.StatePaid), func(o *agent.Order) { o.Outcome.Kind = agent.OutcomePaid })
	r := refund3(p, "PR1", 100, agent.StateDeclined)
	healthy := []agent.Order{p, r}
	require.NoError(t, checkFile(t, writeOrders(t, SchemaVersion, healthy...)))

	for _, c := range []struct {
		name string
		no   string
		edit func(*orderRecord)
		want string
	}{
		{"unknown outcome", "P", func(rec *orderRecord) { rec.Outcome = ptr("maybe") }, `order "P": malformed record: order "P": unknown outcome "maybe"`},
		{"refund with an outcome", "PR1", func(rec *orderRecord) { rec.Outcome = ptr("paid") }, `order "PR1": malformed record: order "PR1": a refund order with an outcome`},
		{"malformed day", "P", func(rec *orderRecord) { rec.Day = "2025314" }, `order "P": malformed record: order "P": platform day: day "2025314" is not yyyyMMdd`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeOrders(t, SchemaVersion, healthy...)
			editOrder(t, path, c.no, c.edit)
			err := checkFile(t, path)
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

func TestCheckAllFindsOfflineDayShort(t *testing.T) {
	// Two payments accepted offline on day0 (one forwarded and paid since),
	// one journalled before schema 4 (no Day: not checked), one online.
	const day0 = "20250314"
	recorded := agent.Outcome{Kind: agent.OutcomeRecorded}
	offline := func(no string) agent.Order {
		return with(pay3(no), func(o *agent.Order) {
			o.State, o.NextAttempt, o.Outcome, o.Day = agent.StateOfflineAccepted, created0, recorded, day0
		})
	}
	build := func(t *testing.T) string {
		t.Helper()
		path := writeOrders(t, SchemaVersion, offline("O1"), offline("O2"),
			with(pay3("OLD"), func(o *agent.Order) { o.Outcome = recorded }),
			with(pay3("ON"), func(o *agent.Order) { o.Outcome.Kind, o.Day = agent.OutcomePaid, day0 }))
		s, err := Open(path)
		require.NoError(t, err)
		_, err = s.UpdateOrder(t.Context(), "O2", to(agent.StatePaid))
		require.NoError(t, err)
		require.NoError(t, s.Close())
		return path
	}
	require.NoError(t, checkFile(t, build(t)))

	key := offlineDayKey(day0, "20230001")
	for _, c := range []struct {
		name  string
		value []byte // nil: deleted
		want  string // "" healthy
	}{
		{"entry missing", nil, `offline_day has 0 fen accepted offline for account "20230001" on 20250314, its payments accepted offline sum to 2468 fen`},
		{"entry short", binary.BigEndian.AppendUint64(nil, 2467), `offline_day has 2467 fen accepted offline for account "20230001" on 20250314`},
		{"entry malformed", []byte{1, 2, 3}, `offline_day entry of day 20250314, account "20230001": malformed record: amount of 3 bytes`},
		{"entry higher (counted again after a review)", binary.BigEndian.AppendUint64(nil, 3702), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := build(t)
			db, err := bolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte(bucketOfflineDay))
				if c.value == nil {
					return b.Delete(key)
				}
				return b.Put(key, c.value)
			}))
			require.NoError(t, db.Close())
			err = checkFile(t, path)
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, c.want)
		})
	}
}
