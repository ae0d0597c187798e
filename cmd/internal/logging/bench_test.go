package logging_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/cmd/internal/logging"
)

// BenchmarkOrderLog is the hook's cost for one order change (unknown →
// paid), as JSON to io.Discard. baseline is what a caller would pay
// writing the same record straight to an unmasked slog JSON logger;
// filtered is an update below the log's level.
func BenchmarkOrderLog(b *testing.B) {
	ctx := context.Background()
	before := sent()
	require.NoError(b, before.To(agent.StateUnknown, at, "no answer: will be confirmed"))
	after := before
	after.History = append([]agent.Transition(nil), before.History...)
	after.OutID = "9000000001"
	require.NoError(b, after.To(agent.StatePaid, at, "pay.query: paid"))
	c := agent.OrderChange{Before: &before, After: after}

	b.Run("hook", func(b *testing.B) {
		log, err := logging.New(io.Discard, config.Log{Format: config.LogJSON, Level: "info"})
		require.NoError(b, err)
		l := logging.NewOrderLog(log)
		b.ReportAllocs()
		for b.Loop() {
			l.Order(ctx, c)
		}
	})
	b.Run("baseline", func(b *testing.B) {
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for b.Loop() {
			log.LogAttrs(ctx, slog.LevelInfo, logging.MsgOrderState,
				slog.String("order_no", after.OrderNo), slog.String("kind", string(after.Kind)),
				slog.String("amount", "12.34"), slog.String("account", "**0001"),
				slog.String("from", string(before.State)), slog.String("to", string(after.State)),
				slog.String("note", "pay.query: paid"), slog.String("out_id", after.OutID))
		}
	})
	b.Run("filtered", func(b *testing.B) {
		log, err := logging.New(io.Discard, config.Log{Format: config.LogJSON, Level: "info"})
		require.NoError(b, err)
		l := logging.NewOrderLog(log)
		update := agent.OrderChange{Before: &after, After: after}
		b.ReportAllocs()
		for b.Loop() {
			l.Order(ctx, update)
		}
	})
}

// BenchmarkMask is the handler's cost on a record with a card number to
// mask, against the same record through the plain handler.
func BenchmarkMask(b *testing.B) {
	ctx := context.Background()
	for name, h := range map[string]slog.Handler{
		"masked": logging.Mask(slog.NewJSONHandler(io.Discard, nil)),
		"plain":  slog.NewJSONHandler(io.Discard, nil),
	} {
		b.Run(name, func(b *testing.B) {
			log := slog.New(h)
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(ctx, slog.LevelInfo, "card presented",
					slog.String("idtype", "cardid"), slog.String("cardid", "3197650001"), slog.String("termid", "17"))
			}
		})
	}
}
