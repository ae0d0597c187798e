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

	"fyne.io/fyne/v2/test"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// The benchmarks of issue 5: what a student waits for on screen, against
// the loopback simulator, next to the service calls alone (the floors).
// The benchmarks drive the kiosk through the flow tests' harness.

// payOnce takes a student from idle (or the last result) through a ¥5.00
// coffee to the result screen showing "Paid", and returns how long "Pay
// now" took to show it. With b, only that part runs with b's timer on.
func payOnce(bk *harness, card string, b *testing.B) time.Duration {
	bk.scan(agent.ScanCard, card)
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
	bk := startKiosk(b, app, newRig(b), nil)
	defer closeKiosk(bk)
	bk.scan(agent.ScanCard, cardRich) // the first scan fetches the token
	bk.waitScreen(ScreenCard)
	bk.tap("Cancel")

	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		bk.scan(agent.ScanCard, cardRich)
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
	bk := startKiosk(b, app, newRig(b), nil)
	defer closeKiosk(bk)
	payOnce(bk, cardRich, nil)

	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		samples = append(samples, payOnce(bk, cardRich, b))
	}
	reportPercentiles(b, samples)
}

// BenchmarkQueryCardFloor is Service.QueryCard alone, over the same
// loopback simulator: the floor of BenchmarkScanToCardShown.
func BenchmarkQueryCardFloor(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	q := agent.Identity{Type: "cardid", ID: cardRich}
	_, err := r.Service.QueryCard(ctx, q)
	require.NoError(b, err)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := r.Service.QueryCard(ctx, q); err != nil {
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
	q := agent.Identity{Type: "cardid", ID: cardRich}
	_, err := r.Service.LookupCard(ctx, q)
	require.NoError(b, err)
	samples := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := r.Service.LookupCard(ctx, q); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkPayFloor is Service.Pay alone: the floor of
// BenchmarkTapToPaidShown, and with its B/op the service's share of
// BenchmarkPaymentCycleAllocs.
func BenchmarkPayFloor(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	_, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 5_00})
	require.NoError(b, err)
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		o, err := r.Service.Pay(ctx, agent.PayInput{Account: sim.DemoRich, Amount: 5_00})
		if err != nil || o.State != agent.StatePaid {
			b.Fatalf("pay: %v, %+v", err, o)
		}
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

// BenchmarkPaymentCycleAllocs is what one payment through the screens
// allocates (B/op; issue 14): scan, card screen, "Coffee  ¥5.00", "Pay
// now", the result showing "Paid", on Fyne's test driver. The simulator
// and the journal run in the same process, so the service's allocations
// are in the figure: BenchmarkPaymentCycleFloor is the same service calls
// alone, BenchmarkPayFloor the payment alone. The harness's own share (the
// walks that find a button or a text on screen) is in it too, a few KiB.
func BenchmarkPaymentCycleAllocs(b *testing.B) {
	app := test.NewTempApp(b)
	bk := startKiosk(b, app, newRig(b), nil)
	defer closeKiosk(bk)
	// The first payments fetch the token and fill the caches; every
	// screen has been shown once.
	for range 3 {
		payOnce(bk, cardRich, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		payOnce(bk, cardRich, nil)
	}
}

// BenchmarkCanteenCycleAllocs is BenchmarkPaymentCycleAllocs for the
// canteen, the cycle scripts/measure-rss.sh drives the real kiosk through:
// an amount armed, each scan looked up and paid (the paying screen, then
// the result over the armed amount).
func BenchmarkCanteenCycleAllocs(b *testing.B) {
	app := test.NewTempApp(b)
	bk := startKiosk(b, app, newRig(b), func(o *Options, _ *Deps) { o.Mode = ModeCanteen })
	defer closeKiosk(bk)
	bk.tap("Coffee  ¥5.00")
	charge := func() {
		bk.scan(agent.ScanCard, cardRich)
		// Each screen is a posted step of its own: neither is missed.
		bk.waitScreen(ScreenPaying)
		bk.waitScreen(ScreenResult)
	}
	for range 3 {
		charge()
	}
	require.Equal(b, ResultPaid, bk.k.State().LastResult)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		charge()
	}
	b.StopTimer()
	require.Len(b, bk.r.charges(sim.DemoRich), 3+b.N)
}

// BenchmarkPaymentCycleFloor is the service calls of one payment through
// the screens alone: LookupCard for the card screen, then Pay and the
// unfinished count after it (Kiosk.payCard). The floor of
// BenchmarkPaymentCycleAllocs, and of BenchmarkCanteenCycleAllocs, whose
// Kiosk.charge makes the same calls.
func BenchmarkPaymentCycleFloor(b *testing.B) {
	benchServiceCycle(b, nil, 5_00, "")
}

// benchServiceCycle runs the service calls of one payment of amount from
// the rich card b.N times (after three to warm up): LookupCard, with
// password VerifyCardPassword, Pay (with its proof), UnfinishedCount;
// tune sets the service's options.
func benchServiceCycle(b *testing.B, tune func(*agent.Options), amount money.Fen, password string) {
	r := newRig(b)
	if tune != nil {
		r.Service = r.NewService(r.Store, tune)
	}
	ctx := context.Background()
	q := agent.Identity{Type: "cardid", ID: cardRich}
	cycle := func() {
		if _, err := r.Service.LookupCard(ctx, q); err != nil {
			b.Fatal(err)
		}
		in := agent.PayInput{Account: sim.DemoRich, Amount: amount}
		if password != "" {
			proof, err := r.Service.VerifyCardPassword(ctx, sim.DemoRich, []byte(password))
			if err != nil {
				b.Fatal(err)
			}
			in.Proof = &proof
		}
		o, err := r.Service.Pay(ctx, in)
		if err != nil || o.State != agent.StatePaid {
			b.Fatalf("pay: %v, %+v", err, o)
		}
		if _, err := r.Service.UnfinishedCount(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for range 3 {
		cycle()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		cycle()
	}
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
		bk := startKiosk(b, app, r, nil)
		img := bk.k.Window().Canvas().Capture()
		if bk.k.State().Screen != ScreenIdle || img.Bounds().Empty() {
			b.Fatalf("not idle: %+v", bk.k.State())
		}
		samples = append(samples, time.Since(start))
		b.StopTimer()
		closeKiosk(bk)
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
	bk := startKiosk(b, app, newRig(b), nil)
	defer closeKiosk(bk)
	payOnce(bk, cardRich, nil)
	rssStart, heapStart := memNow(b)
	for range 1000 {
		payOnce(bk, cardRich, nil)
	}
	rss, heap := memNow(b)
	require.Len(b, bk.r.charges(sim.DemoRich), 1001)
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

// closeKiosk stops a benchmark's kiosk and closes its window, so that the
// next one starts on the same app.
func closeKiosk(h *harness) {
	h.stop()
	h.k.Window().Close()
}

// keyedPayOnce takes the rich card from the last screen through a keyed
// ¥25.00 to "Paid", typing the card's password when the screens ask for
// it (issue 15).
func keyedPayOnce(bk *harness, password string) {
	bk.scan(agent.ScanCard, cardRich)
	bk.waitScreen(ScreenCard)
	bk.tap("Other amount")
	bk.keys("25")
	bk.tap("OK")
	bk.tap("Pay now")
	if password != "" {
		bk.keys(password)
		bk.tap("Pay now")
	}
	bk.waitFor("the paid result", func() bool {
		return bk.k.State().Screen == ScreenResult && bk.k.State().LastResult == ResultPaid
	})
}

// benchKeyedCycle runs keyedPayOnce b.N times on a kiosk whose service
// has the password policy tune sets.
func benchKeyedCycle(b *testing.B, tune func(*agent.Options), password string) {
	r := newRig(b)
	r.Service = r.NewService(r.Store, tune)
	bk := startKiosk(b, test.NewTempApp(b), r, nil)
	defer closeKiosk(bk)
	for range 3 {
		keyedPayOnce(bk, password)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		keyedPayOnce(bk, password)
	}
}

// BenchmarkKeyedPaymentCycle is a keyed ¥25.00 through the screens without
// a password (payment.password: never): scan, card, keypad, "Pay now",
// "Paid". Compare BenchmarkPasswordPaymentCycle.
func BenchmarkKeyedPaymentCycle(b *testing.B) {
	benchKeyedCycle(b, func(o *agent.Options) { o.Password = agent.PasswordPolicy{Mode: agent.PasswordNever} }, "")
}

// BenchmarkPasswordPaymentCycle is the same payment above the password-free
// amount: the password keypad, six digits and the check (one more
// platform call) before the payment. Its floor is
// BenchmarkPasswordPaymentCycleFloor.
func BenchmarkPasswordPaymentCycle(b *testing.B) {
	benchKeyedCycle(b, passwordAbove20, sim.DemoRichPassword)
}

// BenchmarkPasswordPaymentCycleFloor is the service calls of a password
// payment alone: LookupCard, VerifyCardPassword, Pay with the proof,
// UnfinishedCount.
func BenchmarkPasswordPaymentCycleFloor(b *testing.B) {
	benchServiceCycle(b, passwordAbove20, 25_00, sim.DemoRichPassword)
}
