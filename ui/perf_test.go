package ui

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
)

// The benchmarks of issue 5: what a student waits for on screen, against
// the loopback simulator, next to the service calls alone (the floors).
// The flow tests' harness waits with a *testing.T, so benchKiosk repeats
// its few lines for testing.TB; the rig is shared.

// benchKiosk is the harness for a benchmark: the kiosk's posted work runs
// on the benchmark goroutine while it waits.
type benchKiosk struct {
	tb     testing.TB
	r      *rig
	k      *Kiosk
	scans  scanFeed
	queue  chan func()
	cancel context.CancelFunc
}

// newBenchKiosk starts a self-service kiosk (English, the test font) on
// app over r; stop ends it.
func newBenchKiosk(tb testing.TB, app fyne.App, r *rig) *benchKiosk {
	tb.Helper()
	bk := &benchKiosk{tb: tb, r: r, scans: make(scanFeed), queue: make(chan func(), 64)}
	k, err := New(app, Deps{Service: r.svc, Scans: bk.scans}, Options{Mode: ModeKiosk, Lang: "en", Menu: testMenu(),
		TermID: "0017", Windowed: true, FontPath: testFont, Now: r.clock.Now, PINHash: testPINHash, fontPaths: []string{}})
	require.NoError(tb, err)
	bk.k = k
	ctx, cancel := context.WithCancel(context.Background())
	bk.cancel = cancel
	k.post = func(fn func()) {
		select {
		case bk.queue <- fn:
		case <-ctx.Done():
		}
	}
	k.Window().Resize(fyne.NewSize(1024, 600))
	k.Run(ctx)
	return bk
}

func (bk *benchKiosk) stop() {
	bk.cancel()
	bk.k.Wait()
	bk.k.Window().Close()
}

func (bk *benchKiosk) waitFor(what string, cond func() bool) {
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case fn := <-bk.queue:
			fn()
		case <-deadline:
			bk.tb.Fatalf("timed out waiting for %s; state %+v", what, bk.k.State())
		}
	}
}

func (bk *benchKiosk) waitScreen(screen string) {
	bk.waitFor("screen "+screen, func() bool { return bk.k.State().Screen == screen })
}

func (bk *benchKiosk) scan(text string) {
	s := agent.Scan{Device: "reader", Kind: agent.ScanCard, Text: text, Time: bk.r.clock.Now()}
	for {
		select {
		case bk.scans <- s:
			return
		case fn := <-bk.queue:
			fn()
		case <-time.After(10 * time.Second):
			bk.tb.Fatal("the scan loop took no scan")
		}
	}
}

func (bk *benchKiosk) objects() []fyne.CanvasObject {
	return test.LaidOutObjects(bk.k.Window().Canvas().Content())
}

func (bk *benchKiosk) shows(s string) bool {
	for _, o := range bk.objects() {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, s) {
			return true
		}
	}
	return false
}

func (bk *benchKiosk) tap(label string) {
	for _, o := range bk.objects() {
		if b, ok := o.(*widget.Button); ok && b.Text == label && !b.Disabled() {
			test.Tap(b)
			return
		}
	}
	bk.tb.Fatalf("no button %q; state %+v", label, bk.k.State())
}

// payOnce takes a student from idle (or the last result) through a ¥5.00
// coffee to the result screen showing "Paid", and returns how long "Pay
// now" took to show it. With b, only that part runs with b's timer on.
func (bk *benchKiosk) payOnce(card string, b *testing.B) time.Duration {
	bk.scan(card)
	bk.waitScreen(ScreenCard)
	bk.tap("Coffee  ¥5.00")
	if b != nil {
		b.StartTimer()
		defer b.StopTimer()
	}
	start := time.Now()
	bk.tap("Pay now")
	bk.waitFor("the paid result", func() bool {
		return bk.k.State().Screen == ScreenResult && bk.k.State().LastResult == ResultPaid && bk.shows("Paid")
	})
	return time.Since(start)
}

// reportPercentiles reports the p50 and p95 of samples in milliseconds.
func reportPercentiles(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(p float64) float64 {
		i := min(len(samples)-1, int(p*float64(len(samples))))
		return float64(samples[i]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}

// BenchmarkScanToCardShown: a scan handed to the kiosk's scan loop until
// the card screen (name and balance) is showing: the UI's LookupCard over
// loopback HTTP plus the hand-offs and the render.
func BenchmarkScanToCardShown(b *testing.B) {
	app := test.NewTempApp(b)
	bk := newBenchKiosk(b, app, newRig(b))
	defer bk.stop()
	bk.scan(cardRich) // the first scan fetches the token
	bk.waitScreen(ScreenCard)
	bk.tap("Cancel")

	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		bk.scan(cardRich)
		bk.waitScreen(ScreenCard)
		samples = append(samples, time.Since(start))
		b.StopTimer()
		bk.tap("Cancel")
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkTapToPaidShown: "Pay now" tapped until the result screen shows
// "Paid": the UI's Pay (journal, loopback HTTP, settle) plus the unfinished
// count, the hand-off and the render.
func BenchmarkTapToPaidShown(b *testing.B) {
	app := test.NewTempApp(b)
	bk := newBenchKiosk(b, app, newRig(b))
	defer bk.stop()
	bk.payOnce(cardRich, nil)

	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		samples = append(samples, bk.payOnce(cardRich, b))
	}
	reportPercentiles(b, samples)
}

// BenchmarkQueryCardFloor is Service.QueryCard alone, over the same
// loopback simulator: the floor of BenchmarkScanToCardShown.
func BenchmarkQueryCardFloor(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	q := onecard.CardQuery{IDType: "cardid", ID: cardRich}
	_, err := r.svc.QueryCard(ctx, q)
	require.NoError(b, err)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := r.svc.QueryCard(ctx, q); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkLookupCardFloor is Service.LookupCard alone (what the UI calls:
// QueryCard plus the offline card cache).
func BenchmarkLookupCardFloor(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	q := onecard.CardQuery{IDType: "cardid", ID: cardRich}
	_, err := r.svc.LookupCard(ctx, q)
	require.NoError(b, err)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := r.svc.LookupCard(ctx, q); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkPayFloor is Service.Pay alone: the floor of
// BenchmarkTapToPaidShown.
func BenchmarkPayFloor(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	_, err := r.svc.Pay(ctx, agent.PayInput{Account: onecardtest.DemoRich, Amount: 5_00})
	require.NoError(b, err)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		o, err := r.svc.Pay(ctx, agent.PayInput{Account: onecardtest.DemoRich, Amount: 5_00})
		if err != nil || o.State != agent.StatePaid {
			b.Fatalf("pay: %v, %+v", err, o)
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkColdStartToIdle: ui.New (theme, font, catalogue, screens) on the
// test app, Run, and the first rendered frame of the idle screen. The
// platform and journal are already up (the real program's start, which
// adds them, is measured by cmd/kiosk's smoke test under Xvfb).
func BenchmarkColdStartToIdle(b *testing.B) {
	app := test.NewTempApp(b)
	r := newRig(b)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		bk := newBenchKiosk(b, app, r)
		img := bk.k.Window().Canvas().Capture()
		if bk.k.State().Screen != ScreenIdle || img.Bounds().Empty() {
			b.Fatalf("not idle: %+v", bk.k.State())
		}
		samples = append(samples, time.Since(start))
		b.StopTimer()
		bk.stop()
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkMemoryAfter1000Payments pays 1,000 times through the screens
// (scan, Coffee, Pay now, "Paid") and reports the test process's resident
// memory (VmRSS) and live Go heap after them, next to the same figures
// after the kiosk's start. The simulator and the journal run in the same
// process, so their share is part of the figure. The 1,000 payments are
// done once per run whatever b.N (so ns/op is meaningless): run it with
// -benchtime 1x, as a later run would start with the memory the Go
// runtime kept from the one before.
func BenchmarkMemoryAfter1000Payments(b *testing.B) {
	app := test.NewTempApp(b)
	bk := newBenchKiosk(b, app, newRig(b))
	defer bk.stop()
	bk.payOnce(cardRich, nil)
	rssStart, heapStart := memNow(b)
	for range 1000 {
		bk.payOnce(cardRich, nil)
	}
	rss, heap := memNow(b)
	require.Len(b, bk.r.charges(onecardtest.DemoRich), 1001)
	b.ReportMetric(rssStart, "rss-start-MiB")
	b.ReportMetric(rss, "rss-after-MiB")
	b.ReportMetric(heapStart, "heap-start-MiB")
	b.ReportMetric(heap, "heap-after-MiB")
}

// memNow is the process's VmRSS and live Go heap (after a GC), in MiB.
func memNow(tb testing.TB) (rss, heap float64) {
	debug.FreeOSMemory() // a GC, and the freed memory back to the OS
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return vmRSS(tb), float64(ms.HeapAlloc) / (1 << 20)
}

// vmRSS reads VmRSS from /proc/self/status, in MiB (0 where there is no
// /proc).
func vmRSS(tb testing.TB) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			require.NoError(tb, err)
			return kb / 1024
		}
	}
	return 0
}
