package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/promises"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The chaos test is the proof of the journal's two promises. A real child
// process takes payments from several goroutines while the platform's
// faults are switched at random and the network is unplugged and plugged
// back; the child is killed with SIGKILL at random moments and restarted on
// the same database. Then the faults stop, the journal is reconciled until
// nothing is unfinished, and journal and platform ledger are compared.
//
// `make chaos` runs it with its figures (-v); CHAOS_ORDERS and CHAOS_KILLS
// raise the bar.

func TestMain(m *testing.M) {
	if os.Getenv("CHAOS_CHILD") == "1" {
		os.Exit(chaosChild(os.Getenv("CHAOS_CONFIG"), os.Stdout))
	}
	if os.Getenv("SIM_CHILD") == "1" {
		seed, _ := strconv.ParseUint(os.Getenv("SIM_SEED"), 10, 64)
		os.Exit(simChild(os.Getenv("SIM_CONFIG"), seed, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// chaosAccounts are the simulated cards the child charges: rich enough that
// no payment is ever declined for balance, so that every decline seen is
// the journal's doing.
func chaosAccounts() []sim.Card {
	cards := make([]sim.Card, 8)
	for i := range cards {
		cards[i] = sim.Card{Account: fmt.Sprintf("9000%02d", i), Name: "混沌", SNo: fmt.Sprintf("2026%06d", i),
			Balance: 10_000_000_00}
	}
	return cards
}

// chaosChild is the agent process: it pays until it is killed.
func chaosChild(cfgPath string, out io.Writer) int {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	a, err := app.Open(cfg, agent.SystemClock{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	go a.Service.RunReconciler(ctx) //nolint:errcheck // runs until the process is killed
	for _, c := range chaosAccounts() {
		_, _ = a.Service.QueryCard(ctx, agent.Identity{Type: "acc", ID: c.Account})
	}
	fmt.Fprintln(out, "ready")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(w)))
			accounts := chaosAccounts()
			for {
				acc := accounts[rng.IntN(len(accounts))].Account
				_, _ = a.Service.Pay(ctx, agent.PayInput{Account: acc, Amount: money.Fen(1 + rng.IntN(2000))})
			}
		})
	}
	wg.Wait()
	return 0
}

// plug is a loopback TCP proxy in front of the simulator that can be
// unplugged: new connections are refused (the request never leaves, as
// with a pulled cable) and open ones are cut.
type plug struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newPlug(t *testing.T, target string) *plug {
	p := &plug{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.unplug() })
	return p
}

func (p *plug) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *plug) unplug() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *plug) plugIn() error {
	p.mu.Lock()
	in := p.ln != nil
	p.mu.Unlock()
	if in {
		return nil
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.serve(ln)
	return nil
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscanf(os.Getenv(name), "%d", &v); err == nil && v > 0 {
		return v
	}
	return def
}

func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos takes a while; run without -short (make chaos)")
	}
	wantOrders, wantKills := envInt("CHAOS_ORDERS", 1000), envInt("CHAOS_KILLS", 20)
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	simulator := sim.NewServer(sim.Options{AppKey: onecardtest.TestAppKey, AppSecret: secret,
		ClientKey: &clientPriv.PublicKey, PlatformKey: platformPriv, Cards: chaosAccounts()})
	t.Cleanup(simulator.Close)
	net := newPlug(t, strings.TrimPrefix(strings.TrimSuffix(simulator.URL(), "/tsm"), "http://"))

	dir := t.TempDir()
	// The child talks to the platform through the plug.
	cfgPath := plugConfig(t, dir, simulator, net, "300ms", `offline:
  enabled: true
  max_amount: "20.00"
  max_total: "300.00"
  max_count: 40
  max_per_card_day: "200.00"
  card_max_age: 1h
reconcile:
  interval: 50ms
  max_interval: 1s
  give_up_after: 1h
`)
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)

	// One token, fetched before the chaos: the children share it through
	// the store and never need the token method.
	a, err := app.Open(cfg, agent.SystemClock{})
	require.NoError(t, err)
	_, err = a.Service.Platform().Tokens().Info(context.Background())
	require.NoError(t, err)
	require.NoError(t, a.Close())

	faultsCtx, stopFaults := context.WithCancel(context.Background())
	injected := map[string]int{}
	var faultsDone sync.WaitGroup
	faultsDone.Go(func() { chaosFaults(faultsCtx, simulator, net, injected) })

	start := time.Now()
	kills, orders := 0, 0
	for kills < wantKills || orders < wantOrders {
		require.Less(t, kills, 40*wantKills, "the child makes no progress")
		runAndKill(t, cfgPath)
		kills++
		orders = countOrders(t, cfg)
	}
	stopFaults()
	faultsDone.Wait()
	simulator.ClearFaults()
	require.NoError(t, net.plugIn())
	chaosTime := time.Since(start)

	// Settle: reconcile until nothing is unfinished. The 300 ms timeout
	// made the faults bite; settling gets a normal one, so that a loaded
	// machine (a 50-order query under -race) is not mistaken for a fault.
	settleStart := time.Now()
	raw, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfgPath, []byte(strings.Replace(string(raw), "timeout: 300ms", "timeout: 10s", 1)), 0o600))
	cfg, err = config.Load(cfgPath)
	require.NoError(t, err)
	a, err = app.Open(cfg, agent.SystemClock{})
	require.NoError(t, err)
	defer a.Close()
	ctx := context.Background()
	for {
		rep, err := a.Service.ReconcileAll(ctx)
		if err == nil && rep.Unfinished == 0 {
			break
		}
		if time.Since(settleStart) > 5*time.Minute {
			left, _ := a.Store.Due(ctx, time.Now().AddDate(1, 0, 0), 20)
			for _, o := range left {
				t.Logf("unfinished: %s %s %s attempts=%d refund=%s last error: %s", o.Kind, o.OrderNo, o.State, o.Attempts, o.RefundOrderNo, o.LastError)
			}
			t.Fatalf("still unfinished after 5 minutes: %d (%v)", rep.Unfinished, err)
		}
		<-time.After(100 * time.Millisecond) // the 300 ms request-timeout wait of the last sends
	}
	settleTime := time.Since(settleStart)

	all, err := a.Store.Orders(ctx, agent.OrderFilter{})
	require.NoError(t, err)
	rep := promises.Check(promises.Input{Orders: all, Ledger: simulator.Transactions()})
	states, told := map[agent.OrderState]int{}, map[agent.OutcomeKind]int{}
	for _, o := range all {
		if o.Kind == agent.KindPay {
			states[o.State]++
			if agent.ToldCustomer(o) {
				told[o.Outcome.Kind]++
			}
		}
	}
	t.Logf("chaos: %d payment orders (%d refunds of orphans) in %s, %d SIGKILLs, then settled in %s",
		rep.Payments, rep.Refunds, chaosTime.Round(time.Millisecond), kills, settleTime.Round(time.Millisecond))
	t.Logf("chaos: final states %s", sortedCounts(states))
	t.Logf("chaos: customers were first told %s", sortedCounts(told))
	t.Logf("chaos: faults injected %s; fired at the platform %v", sortedCounts(injected), simulator.Stats().FaultsFired)
	t.Logf("chaos: told paid/recorded/pending %d, never told %d; broken promises: %s", rep.Told, rep.Untold, rep)
	assert.GreaterOrEqual(t, rep.Payments, wantOrders)
	assert.True(t, rep.OK(), "the promises hold: %s", rep)
	assert.Zero(t, states[agent.StateNeedsReview], "nothing left for a person")
}

// runAndKill starts the agent child, lets it pay for a random while once it
// is ready, and kills it with SIGKILL.
func runAndKill(t *testing.T, cfgPath string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHAOS_CHILD=1", "CHAOS_CONFIG="+cfgPath)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line == "ready\n"
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		require.True(t, ok, "child failed to start: %s", stderr.String())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("child did not start: %s", stderr.String())
	}
	<-time.After(time.Duration(100+rand.IntN(500)) * time.Millisecond) // a random moment to die
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
}

func countOrders(t *testing.T, cfg *config.Config) int {
	a, err := app.Open(cfg, agent.SystemClock{})
	require.NoError(t, err)
	defer a.Close()
	orders, err := a.Store.Orders(context.Background(), agent.OrderFilter{})
	require.NoError(t, err)
	n := 0
	for _, o := range orders {
		if o.Kind == agent.KindPay {
			n++
		}
	}
	return n
}

// chaosFaults switches the platform's faults, and the network, at random
// until ctx ends.
func chaosFaults(ctx context.Context, simulator *sim.Server, net *plug, injected map[string]int) {
	kinds := []sim.FaultKind{sim.FaultDropRequest, sim.FaultDropReply, sim.FaultDelay,
		sim.FaultHTTP500, sim.FaultGarbage, sim.FaultBadSignature, sim.FaultText}
	unplugged := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(20+rand.IntN(80)) * time.Millisecond):
		}
		switch n := rand.IntN(10); {
		case n == 0 && !unplugged:
			net.unplug()
			unplugged = true
			injected["unplugged"]++
		case n <= 2 && unplugged:
			if net.plugIn() == nil {
				unplugged = false
			}
		case n <= 3:
			simulator.ClearFaults()
		default:
			f := sim.Fault{Kind: kinds[rand.IntN(len(kinds))], Times: 1 + rand.IntN(3), AfterCommit: rand.IntN(2) == 0}
			if f.Kind == sim.FaultDelay {
				f.Delay = 500 * time.Millisecond // past the 300 ms timeout
			}
			if f.Kind == sim.FaultDropRequest || f.Kind == sim.FaultDropReply || f.Kind == sim.FaultDelay || f.Kind == sim.FaultBadSignature {
				f.AfterCommit = false
			}
			simulator.InjectFault(f)
			injected[string(f.Kind)]++
		}
	}
}

func sortedCounts[K ~string](m map[K]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[K(k)])
	}
	return strings.Join(parts, " ")
}
