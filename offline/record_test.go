package offline

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
)

func TestOrderRecordFormat(t *testing.T) {
	o := agent.Order{
		OrderNo: "K17-000001", Kind: agent.KindRefund, RefundOf: "K17-000000",
		Account: "20230001", AccType: "###", MercAcc: "1000001", TermID: "17",
		Amount:  1050,
		Created: time.Date(2025, 3, 14, 17, 26, 53, 5, time.FixedZone("CST", 8*3600)),
		State:   agent.StateSending,
	}
	raw, err := encodeOrder(o)
	require.NoError(t, err)
	// The names and encodings below are the file format; changing them
	// needs a schema version bump.
	assert.JSONEq(t, `{"order_no":"K17-000001","kind":"refund","refund_of":"K17-000000",
		"account":"20230001","acctype":"###","mercacc":"1000001","termid":"17",
		"amount_fen":1050,"created":"2025-03-14T09:26:53.000000005Z","state":"sending","outcome":""}`, string(raw))

	got, err := decodeOrder(raw)
	require.NoError(t, err)
	assert.True(t, got.Created.Equal(o.Created))
	o.Created = o.Created.UTC()
	assert.Equal(t, o, got)
}

func TestOrderRecordFormatSchema2(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := time.Date(2025, 3, 14, 17, 26, 53, 0, cst)
	o := agent.Order{
		OrderNo: "K17-000002", Kind: agent.KindPay,
		Account: "20230001", AccType: "###", MercAcc: "1000001", TermID: "17",
		Amount: 1234, Created: at, Updated: at.Add(3 * time.Second),
		State: agent.StateOrphanCharged, OutID: "T1", Code: "0", Message: "ok",
		Attempts: 3, LastError: "timeout", LastSent: at.Add(time.Second),
		NextAttempt: at.Add(time.Minute), Refunded: 34, RefundOrderNo: "K17-000003",
		History: []agent.Transition{
			{At: at, From: agent.StateSending, To: agent.StateOrphanCharged, Note: "found charged"},
			{At: at.Add(time.Second), To: agent.StateOrphanCharged},
		},
	}
	raw, err := encodeOrder(o)
	require.NoError(t, err)
	assert.JSONEq(t, `{"order_no":"K17-000002","kind":"pay",
		"account":"20230001","acctype":"###","mercacc":"1000001","termid":"17",
		"amount_fen":1234,"created":"2025-03-14T09:26:53Z","updated":"2025-03-14T09:26:56Z",
		"state":"orphan_charged","out_id":"T1","code":"0","message":"ok",
		"attempts":3,"last_error":"timeout","last_sent":"2025-03-14T09:26:54Z",
		"next_attempt":"2025-03-14T09:27:53Z","outcome":"","refunded_fen":34,"refund_order_no":"K17-000003",
		"history":[{"at":"2025-03-14T09:26:53Z","from":"sending","to":"orphan_charged","note":"found charged"},
		           {"at":"2025-03-14T09:26:54Z","from":"","to":"orphan_charged"}]}`, string(raw))

	got, err := decodeOrder(raw)
	require.NoError(t, err)
	want := o
	want.Created, want.Updated = o.Created.UTC(), o.Updated.UTC()
	want.LastSent, want.NextAttempt = o.LastSent.UTC(), o.NextAttempt.UTC()
	want.History = []agent.Transition{o.History[0], o.History[1]}
	want.History[0].At, want.History[1].At = o.History[0].At.UTC(), o.History[1].At.UTC()
	assert.Equal(t, want, got)
}

func TestIndexKeysSortByTime(t *testing.T) {
	times := []time.Time{
		{}, // zero: clamped to the earliest key, "due at once"
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Unix(0, 0),
		created0,
		created0.Add(time.Nanosecond),
		time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), // clamped to the latest
	}
	for i := 1; i < len(times); i++ {
		a, b := unfinishedKey(times[i-1], "Z"), unfinishedKey(times[i], "A")
		assert.Negative(t, bytes.Compare(a, b), "%s before %s", times[i-1], times[i])
	}
	assert.Equal(t, unfinishedKey(time.Time{}, "A")[:8], make([]byte, 8))
}

func TestCardAndBillReportFormat(t *testing.T) {
	seen := time.Date(2025, 3, 14, 17, 0, 0, 0, time.FixedZone("CST", 8*3600))
	c := agent.CachedCard{Account: "20230001", AccType: "###", MaskedName: "张*", Frozen: true, Balance: 5000, SeenAt: seen}
	raw, err := encodeCard(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"account":"20230001","acctype":"###","masked_name":"张*","frozen":true,
		"balance_fen":5000,"seen_at":"2025-03-14T09:00:00Z"}`, string(raw))
	back, err := decodeCard(raw)
	require.NoError(t, err)
	c.SeenAt = seen.UTC()
	assert.Equal(t, c, back)

	r := agent.BillReport{
		Date: "20250314", Created: seen, State: agent.SettlementDone,
		Counts:    map[agent.BillMatch]int{agent.BillMatched: 41, agent.BillAmountMismatch: 1},
		Lines:     []agent.BillLine{{OrderNo: "K1", Match: agent.BillAmountMismatch, JournalState: agent.StatePaid, JournalAmount: 100, BillType: "pay", BillStatus: "ok", BillAmount: 110, OutID: "T9", Note: "differs"}},
		BillCount: 42, BillTotal: 123456,
	}
	raw, err = encodeBillReport(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"date":"20250314","created":"2025-03-14T09:00:00Z",
		"counts":{"amount_mismatch":1,"matched":41},
		"lines":[{"order_no":"K1","match":"amount_mismatch","journal_state":"paid","journal_amount_fen":100,
		          "bill_type":"pay","bill_status":"ok","bill_amount_fen":110,"out_id":"T9","note":"differs"}],
		"bill_count":42,"bill_total_fen":123456,"state":"done"}`, string(raw))
	rb, err := decodeBillReport(raw)
	require.NoError(t, err)
	r.Created = seen.UTC()
	assert.Equal(t, r, rb)
	// A report saved before settlement existed reads as done.
	old, err := decodeBillReport([]byte(`{"date":"20250314","created":"2025-03-14T09:00:00Z","bill_count":0,"bill_total_fen":0}`))
	require.NoError(t, err)
	assert.Equal(t, agent.SettlementDone, old.State)

	for _, in := range []string{``, `{}`, `{"account":"1","balance_fen":1.5}`, `{"account":"1","pan":"6222"}`} {
		_, err := decodeCard([]byte(in))
		assert.ErrorIs(t, err, ErrBadRecord, "%s", in)
	}
	for _, in := range []string{``, `{}`, `{"date":"2025-03-14"}`, `{"date":"20250230"}`, `{"date":"20250314","x":1}`, `{"date":"20250314","state":"maybe"}`} {
		_, err := decodeBillReport([]byte(in))
		assert.ErrorIs(t, err, ErrBadRecord, "%s", in)
	}
}

func TestDecodeOrderRefusesGarbage(t *testing.T) {
	for _, in := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"order_no":"A"`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z"} {}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","extra":1}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","amount_fen":1.5}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","amount_fen":"100"}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"yesterday"}`,
		`{"order_no":"A","kind":"pay","state":"paid"}`,
		`{"order_no":"A","kind":"refund","state":"paid","created":"2025-01-01T00:00:00Z"}`,
		`{"order_no":"","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z"}`,
		// Schema 1's name; the migration renames it.
		`{"order_no":"A","kind":"pay","state":"not_found","created":"2025-01-01T00:00:00Z"}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","attempts":-1}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","refunded_fen":-5}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","history":[{"at":"2025-01-01T00:00:00Z","from":"sending","to":"gone"}]}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","history":[{"at":"2025-01-01T00:00:00Z","to":"paid","by":"x"}]}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","history":{}}`,
		// Schema 4's fields.
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","outcome":"maybe"}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","outcome_reason":"60010"}`,
		`{"order_no":"A","kind":"refund","refund_of":"B","state":"paid","created":"2025-01-01T00:00:00Z","outcome":"paid"}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","day":"2025-01-01"}`,
		`{"order_no":"A","kind":"pay","state":"paid","created":"2025-01-01T00:00:00Z","day":20250101}`,
	} {
		_, err := decodeOrder([]byte(in))
		if assert.ErrorIs(t, err, ErrBadRecord, "%s", in) {
			assert.NotEmpty(t, err.Error())
		}
	}
}

func TestTokenRecordErrorsDoNotLeakValue(t *testing.T) {
	_, err := decodeToken([]byte(`{"value":"s3cr3t","expires":"soon"}`))
	require.ErrorIs(t, err, ErrBadRecord)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"order_no":"K1","kind":"pay","account":"1","acctype":"###","mercacc":"2","termid":"17","amount_fen":100,"created":"2025-03-14T09:26:53Z","state":"sending"}`))
	f.Add([]byte(`{"order_no":"K2","kind":"refund","refund_of":"K1","account":"1","acctype":"###","mercacc":"2","termid":"17","amount_fen":100,"created":"2025-03-14T09:26:53Z","state":"orphan_charged","attempts":2,"last_error":"timeout","last_sent":"2025-03-14T09:26:54Z","next_attempt":"2025-03-14T09:27:53Z","refunded_fen":0,"refund_order_no":"K3","history":[{"at":"2025-03-14T09:26:53+08:00","from":"sending","to":"orphan_charged","note":"x"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := decodeOrder(raw)
		if err != nil {
			if !assert.ErrorIs(t, err, ErrBadRecord) {
				return
			}
			assert.NotEmpty(t, err.Error())
			return
		}
		// Whatever decodes must encode again and come back the same, or
		// an update would silently change a stored order.
		again, err := encodeOrder(o)
		require.NoError(t, err)
		back, err := decodeOrder(again)
		require.NoError(t, err)
		assert.Equal(t, o, back)
	})
}

func FuzzDecodeCard(f *testing.F) {
	f.Add([]byte(`{"account":"20230001","acctype":"###","masked_name":"张*","lost":true,"balance_fen":5000,"seen_at":"2025-03-14T09:00:00Z"}`))
	f.Add([]byte(`{"account":"1","balance_fen":-1,"seen_at":"0001-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := decodeCard(raw)
		if err != nil {
			assert.ErrorIs(t, err, ErrBadRecord)
			return
		}
		again, err := encodeCard(c)
		require.NoError(t, err)
		back, err := decodeCard(again)
		require.NoError(t, err)
		assert.Equal(t, c, back)
	})
}

func FuzzDecodeBillReport(f *testing.F) {
	f.Add([]byte(`{"date":"20250314","created":"2025-03-14T09:00:00Z","counts":{"matched":41,"amount_mismatch":1},"lines":[{"order_no":"K1","match":"amount_mismatch","journal_state":"paid","journal_amount_fen":100,"bill_type":"pay","bill_status":"ok","bill_amount_fen":110}],"bill_count":42,"bill_total_fen":123456}`))
	f.Add([]byte(`{"date":"20250314","created":"2025-03-14T09:00:00Z","counts":{},"lines":[],"bill_count":0,"bill_total_fen":0}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := decodeBillReport(raw)
		if err != nil {
			assert.ErrorIs(t, err, ErrBadRecord)
			return
		}
		again, err := encodeBillReport(r)
		require.NoError(t, err)
		back, err := decodeBillReport(again)
		require.NoError(t, err)
		assert.Equal(t, r, back)
	})
}
