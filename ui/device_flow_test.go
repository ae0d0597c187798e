package ui

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/device"
)

// deviceScans is the test's agent.ScanSource over a real device.Manager:
// the same conversion cmd/internal/app.Devices makes (that package is
// internal to cmd/, so the ui tests cannot import it).
type deviceScans struct{ mgr *device.Manager }

func (d deviceScans) Scans(ctx context.Context) <-chan agent.Scan {
	out := make(chan agent.Scan)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-d.mgr.Events():
				if !ok {
					return
				}
				if e.Type != device.EventScan {
					continue
				}
				select {
				case out <- agent.Scan{Device: e.Device, Kind: string(e.Scan.Kind), Text: e.Scan.Text, Time: e.Time}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// openReplayReader writes a capture of a serial card reader sending card
// followed by CRLF and opens it as the kiosk's reader.
func openReplayReader(t *testing.T, card string) *device.Manager {
	t.Helper()
	file := filepath.Join(t.TempDir(), "reader.cap")
	f, err := os.Create(file)
	require.NoError(t, err)
	require.NoError(t, device.WriteRecord(f, device.Record{At: 0, Data: []byte(card[:4])}))
	require.NoError(t, device.WriteRecord(f, device.Record{At: 12 * time.Millisecond, Data: []byte(card[4:] + "\r\n")}))
	require.NoError(t, f.Close())

	spec, err := device.ParseSpec("reader", "replay:"+file+"?as=serial&frame=crlf&speed=fast&kind=card")
	require.NoError(t, err)
	mgr, err := device.Open(context.Background(), []device.Spec{spec}, device.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mgr.Close() })
	return mgr
}

// TestKioskPaysFromReplayedCardReader drives the self-service flow from a
// replayed serial card reader (framing, kind and the device manager all
// real) instead of the channel double.
func TestKioskPaysFromReplayedCardReader(t *testing.T) {
	var demo sim.Card
	for _, c := range sim.DemoCards() {
		if c.Account == sim.DemoNormal {
			demo = c
		}
	}
	require.Equal(t, cardNormal, demo.CardID, "the demo card the capture holds")

	mgr := openReplayReader(t, demo.CardID)
	h := newHarness(t, func(_ *Options, d *Deps) { d.Scans = deviceScans{mgr: mgr} })

	h.waitScreen(ScreenCard)
	assert.True(t, h.shows("Cardholder: 张*"), h.texts())
	assert.True(t, h.shows("Balance: ¥100.00"))
	assert.True(t, h.shows("Account: **0001"))
	assert.False(t, h.shows(demo.CardID), "the card number is never shown")

	h.tap("牛肉面  ¥8.50")
	assert.True(t, h.shows("Pay ¥8.50?"))
	h.tap("Pay now")
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPaid, h.k.State().LastResult)
	assert.True(t, h.shows("Paid"), h.texts())
	assert.True(t, h.shows("Balance now: ¥91.50"), h.texts())
	charges := h.r.charges(sim.DemoNormal)
	require.Len(t, charges, 1, "one frame, one charge")
	assert.Equal(t, money.Fen(8_50), charges[0].Amount)
	assert.Equal(t, money.Fen(91_50), h.r.balance(t, sim.DemoNormal))
}

// TestCanteenChargesFromReplayedCardReader: the canteen's armed amount is
// charged by a tap on the replayed reader.
func TestCanteenChargesFromReplayedCardReader(t *testing.T) {
	src := make(chan agent.Scan)
	mgr := openReplayReader(t, cardRich)
	h := newHarness(t, func(o *Options, d *Deps) {
		o.Mode = ModeCanteen
		d.Scans = scanFeed(src)
	})
	// Arm first, then let the reader's frame through: a card tapped before
	// the amount is set is only a notice.
	h.keys("5")
	h.tap("Charge this amount")
	require.Equal(t, ScreenArmed, h.k.State().Screen)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var s agent.Scan
	select {
	case s = <-deviceScans{mgr: mgr}.Scans(ctx):
	case <-time.After(10 * time.Second):
		t.Fatal("the replayed reader gave no scan")
	}
	assert.Equal(t, agent.Scan{Device: "reader", Kind: agent.ScanCard, Text: cardRich, Time: s.Time}, s)
	h.scanFeedFrom(src, s)
	h.waitScreen(ScreenResult)
	assert.Equal(t, ResultPaid, h.k.State().LastResult, h.texts())
	charges := h.r.charges(sim.DemoRich)
	require.Len(t, charges, 1)
	assert.Equal(t, money.Fen(5_00), charges[0].Amount)
}

// scanFeedFrom hands s to the kiosk's scan loop through src, running the
// UI while it waits.
func (h *harness) scanFeedFrom(src chan agent.Scan, s agent.Scan) {
	h.t.Helper()
	for {
		select {
		case src <- s:
			return
		case fn := <-h.queue:
			fn()
		case <-time.After(10 * time.Second):
			h.t.Fatal("the scan loop took no scan")
		}
	}
}
