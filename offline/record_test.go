package offline

import (
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
		"amount_fen":1050,"created":"2025-03-14T09:26:53.000000005Z","state":"sending"}`, string(raw))

	got, err := decodeOrder(raw)
	require.NoError(t, err)
	assert.True(t, got.Created.Equal(o.Created))
	o.Created = o.Created.UTC()
	assert.Equal(t, o, got)
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
