package logging_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/cmd/internal/logging"
)

// jsonLog is a masked JSON logger at debug and what it wrote.
func jsonLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(logging.Mask(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))), &buf
}

// one decodes the one record in buf, without time, level and msg.
func one(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	recs := records(t, buf.String())
	require.Len(t, recs, 1)
	for _, k := range []string{"time", "level", "msg"} {
		delete(recs[0], k)
	}
	return recs[0]
}

func TestMaskTopLevel(t *testing.T) {
	log, buf := jsonLog()
	log.Info("x",
		"account", "100001",
		"cardid", "3197650001",
		"card_id", "3197650001",
		"cardId", "3197650001",
		"CardID", "3197650001",
		"barcode", "280123456789012345",
		"phone", "13800000001",
		"sno", "2024000001",
		"cert", "110101200001011234",
		"refund_account", 100001,
		"accounts", []string{"100001", "100002"},
		"barcode_bytes", []byte("280123456789012345"),
		"name", "张三",
		"holder_name", "李四光",
		"card_lost", true,
		"order_no", "2026112712000017000001",
		"out_id", "9000000001",
		"amount", "5.00",
	)
	assert.Equal(t, map[string]any{
		"account":        "**0001",
		"cardid":         "******0001",
		"card_id":        "******0001",
		"cardId":         "******0001",
		"CardID":         "******0001",
		"barcode":        "**************2345",
		"phone":          "*******0001",
		"sno":            "******0001",
		"cert":           "**************1234",
		"refund_account": "**0001",
		"accounts":       []any{"**0001", "**0002"},
		"barcode_bytes":  "**************2345",
		"name":           "张*",
		"holder_name":    "李**",
		"card_lost":      true,
		"order_no":       "2026112712000017000001",
		"out_id":         "9000000001",
		"amount":         "5.00",
	}, one(t, buf))
}

func TestMaskSecretsWhateverTheirType(t *testing.T) {
	log, buf := jsonLog()
	log.Info("x",
		"token", "tok-abcdef",
		"access_token", "tok-abcdef",
		"accessToken", "tok-abcdef",
		"app_secret", "c2VjcmV0",
		"key", []byte("raw key"),
		"authorization", "Bearer tok-abcdef",
		"password", 123456,
		"pin", 1234,
		"pin_hash", "$2a$10$abc",
		"secrets", struct{ A string }{"a"},
		slog.Group("status_token", "value", "tok-abcdef"),
		"session_key", time.Second,
	)
	got := one(t, buf)
	for k, v := range got {
		assert.Equal(t, logging.Redacted, v, k)
	}
	assert.Len(t, got, 12)
	assert.NotContains(t, buf.String(), "tok-abcdef")
}

func TestMaskInGroups(t *testing.T) {
	log, buf := jsonLog()
	log.Info("x",
		slog.Group("card", "id", "3197650001", "balance", "100.00", "lost", false),
		slog.Group("payer", "account", "100001", slog.Group("holder", "value", "张三"), "termid", "17"),
		slog.Group("platform", "url", "https://pay.example", "app_secret", "c2VjcmV0"),
		slog.Group("token", "value", "tok-abcdef", "expires", "2026-11-27"),
	)
	assert.Equal(t, map[string]any{
		"card":     map[string]any{"id": "******0001", "balance": "100.00", "lost": false},
		"payer":    map[string]any{"account": "**0001", "holder": map[string]any{"value": "张*"}, "termid": "17"},
		"platform": map[string]any{"url": "https://pay.example", "app_secret": logging.Redacted},
		"token":    logging.Redacted,
	}, one(t, buf))
}

func TestMaskWith(t *testing.T) {
	log, buf := jsonLog()
	log.With("account", "100001", "token", "tok-abcdef", "termid", "17").
		WithGroup("card").With("no", "3197650001").
		Info("x", "cardholder", "张三", "balance", "100.00")
	assert.Equal(t, map[string]any{
		"account": "**0001", "token": logging.Redacted, "termid": "17",
		"card": map[string]any{"no": "******0001", "cardholder": "张*", "balance": "100.00"},
	}, one(t, buf))

	buf.Reset()
	log.WithGroup("auth").Info("x", "value", "tok-abcdef", "n", 3)
	assert.Equal(t, map[string]any{"auth": map[string]any{"value": logging.Redacted, "n": logging.Redacted}}, one(t, buf))
}

func TestMaskStructs(t *testing.T) {
	log, buf := jsonLog()
	log.Info("x",
		"query", onecard.CardQuery{IDType: "cardid", ID: "3197650001", Password: "123456"},
		"tok", agent.Token{Value: "tok-abcdef", Expires: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)},
		"order", &agent.Order{OrderNo: "2026112712000017000001", Kind: agent.KindPay, Account: "100001", Amount: 500,
			History: []agent.Transition{{To: agent.StateSending, Note: "n"}}},
		"found", []onecard.Card{{Account: "100001", Name: "张三", SNo: "2024000001", Phone: "13800000001", BankAcc: "6222000011112222"}},
		"literal", struct{ Account, Termid string }{"100001", "17"},
		"map", map[string]any{"account": "100001", "note": "n"},
		"err", &onecard.BusinessError{Method: onecard.MethodPay, Retcode: "60010"},
	)
	got := one(t, buf)
	assert.Equal(t, map[string]any{"id_type": "cardid", "id": "******0001", "get_merge": false, "password": logging.Redacted}, got["query"],
		"a CardQuery's id is a card number: the type's name says so")
	assert.Equal(t, logging.Redacted, got["tok"], "an agent.Token is a secret whole")
	order := got["order"].(map[string]any)
	assert.Equal(t, "2026112712000017000001", order["order_no"])
	assert.Equal(t, "**0001", order["account"])
	assert.Equal(t, "sending", order["history"].(map[string]any)["0"].(map[string]any)["to"])
	card := got["found"].(map[string]any)["0"].(map[string]any)
	assert.Equal(t, "**0001", card["account"])
	assert.Equal(t, "张*", card["name"])
	assert.Equal(t, "******0001", card["s_no"])
	assert.Equal(t, "*******0001", card["phone"])
	assert.Equal(t, "************2222", card["bank_acc"])
	assert.Equal(t, map[string]any{"account": "**0001", "termid": "17"}, got["literal"])
	assert.Equal(t, map[string]any{"account": "**0001", "note": "n"}, got["map"])
	assert.Contains(t, got["err"], "declined by platform (retcode 60010): insufficient balance", "an error keeps its own text")
}

// A record with nothing to mask reaches the handler as it is: the output
// is the plain handler's, attribute for attribute.
func TestMaskLeavesTheRestAlone(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	write := func(h slog.Handler) {
		r := slog.NewRecord(at, slog.LevelInfo, "x", 0)
		r.AddAttrs(slog.String("order_no", "1"), slog.Int("attempts", 2), slog.Duration("took", time.Second),
			slog.Group("g", slog.String("termid", "17")), slog.Any("state", agent.StatePaid), slog.Any("at", at))
		require.NoError(t, h.WithAttrs([]slog.Attr{slog.String("termid", "17")}).WithGroup("w").Handle(context.Background(), r))
	}
	var plain, masked strings.Builder
	write(slog.NewTextHandler(&plain, nil))
	write(logging.Mask(slog.NewTextHandler(&masked, nil)))
	assert.Equal(t, plain.String(), masked.String())

	plain.Reset()
	masked.Reset()
	slog.New(slog.NewTextHandler(&plain, nil)).Info("x", "list", []any{1, "a"}, "tags", []string{"a"})
	slog.New(logging.Mask(slog.NewTextHandler(&masked, nil))).Info("x", "list", []any{1, "a"}, "tags", []string{"a"})
	assert.Equal(t, plain.String()[strings.Index(plain.String(), " "):], masked.String()[strings.Index(masked.String(), " "):],
		"a slice of nothing to look into logs as it does unmasked")

	h := logging.Mask(slog.DiscardHandler)
	assert.Same(t, h, logging.Mask(h), "masking twice is masking once")
}

// The record is copied from the first attribute that needs masking, in
// order, however many came before it.
func TestMaskLateAttribute(t *testing.T) {
	log, buf := jsonLog()
	args := []any{}
	for i := range 8 {
		args = append(args, fmt.Sprintf("k%d", i), i)
	}
	log.Info("x", append(args, "account", "100001", "k8", 8)...)
	line := buf.String()
	assert.Contains(t, line, `"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"account":"**0001","k8":8}`)
}

func TestMaskText(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logging.Mask(slog.NewTextHandler(&buf, nil)))
	log.Info("x", "query", onecard.CardQuery{IDType: "sno", ID: "2024000001"}, slog.Group("card", "id", "3197650001"))
	assert.Contains(t, buf.String(), " query.id_type=sno query.id=******0001 query.get_merge=false query.password=[redacted] card.id=******0001")
	assert.NotContains(t, buf.String(), "2024000001")
}
