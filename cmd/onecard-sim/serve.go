package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/cli"
	"github.com/campuspos/kiosk/cmd/internal/demo"
)

// shutdownGrace is how long a shutdown waits for requests in flight.
const shutdownGrace = 5 * time.Second

// applyFlags lets the command line override the file.
func applyFlags(st *demo.SimSettings, f flags) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&st.Listen, f.listen)
	set(&st.AppKey, f.appKey)
	set(&st.AppSecretFile, f.appSecretFile)
	set(&st.ClientPublicKey, f.clientPub)
	set(&st.PlatformPrivateKey, f.platformPriv)
	set(&st.Timezone, f.timezone)
	set(&st.TokenTTL, f.tokenTTL)
	if f.cards != "" {
		st.CardsFile, st.Cards = f.cards, nil
	}
	if st.Listen == "" {
		st.Listen = demo.DefaultListen
	}
	if st.Timezone == "" {
		st.Timezone = demo.DefaultTimezone
	}
}

// serve runs the simulator until ctx is done.
func serve(ctx context.Context, f flags, stderr io.Writer, ready func(string)) error {
	logger := log.New(stderr, "onecard-sim: ", log.LstdFlags)
	var dir *demo.Dir
	cfgPath := f.config
	if f.demo != "" {
		var err error
		if dir, err = demo.Prepare(f.demo, logger.Printf); err != nil {
			return err
		}
		cfgPath = dir.SimYAML
	}
	st, err := demo.LoadSimSettings(cfgPath)
	if err != nil {
		return err
	}
	applyFlags(&st, f)
	opts, err := st.Options()
	if err != nil {
		return err
	}
	f.modes.apply(&opts)
	if on := f.modes.String(); on != "" {
		logger.Printf("field variations: %s", on)
	}
	if opts.Strict {
		logger.Print("strict: request fields v2.42 does not list are refused with retcode 40015, query.card's extensions included")
	}
	if opts.PlatformKey == nil {
		logger.Print("warning: no platform_private_key: replies are unsigned, and a client that verifies them will refuse them")
	}
	if f.verbose {
		opts.Logf = func(format string, args ...any) { logger.Printf(strings.TrimPrefix(format, "onecard-sim: "), args...) }
	}

	ln, err := net.Listen("tcp", st.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	opts.BaseURL = "http://" + dialAddr(ln.Addr())
	simulator, err := sim.NewHandler(opts)
	if err != nil {
		ln.Close()
		return cli.Usagef("%w", err)
	}
	defer simulator.Close()
	if dir != nil {
		if err := dir.WriteKioskYAML(simulator.URL(), opts.AppKey, opts.AppSecret, st.Timezone); err != nil {
			ln.Close()
			return err
		}
		logger.Printf("kiosk configuration: %s (for kiosk and kioskctl --config)", dir.KioskYAML)
		logger.Printf("simulator configuration: %s", dir.SimYAML)
	}
	logger.Printf("platform API on %s, bill download on %s, admin under %s%s", simulator.URL(), simulator.BillURL(), opts.BaseURL, sim.AdminPrefix)
	where := "the built-in demo set"
	switch {
	case st.CardsFile != "":
		where = "full numbers in " + st.CardsFile
	case st.Cards != nil:
		where = "full numbers in " + cfgPath
	}
	logCards(logger, simulator.Cards(), where)

	srv := &http.Server{
		Handler:           simulator,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(simulator.URL())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	// Close first: it aborts requests held by a delay fault, which would
	// otherwise keep Shutdown waiting, and drops those held for late
	// processing.
	simulator.Close()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// dialAddr is the address a client on this machine should dial: an
// unspecified listen address (0.0.0.0, ::) becomes loopback.
func dialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// logCards lists the cards with their numbers masked: the log may be
// shared, the full numbers are in the configuration.
func logCards(logger *log.Logger, cards []sim.Card, where string) {
	logger.Printf("%d cards (%s):", len(cards), where)
	for _, c := range cards {
		var notes []string
		if c.CardID != "" {
			notes = append(notes, "cardid "+sim.Mask(c.CardID))
		}
		if c.Barcode != "" {
			notes = append(notes, "barcode "+sim.Mask(c.Barcode))
		}
		if c.Lost {
			notes = append(notes, "LOST")
		}
		if c.Frozen {
			notes = append(notes, "FROZEN")
		}
		if c.Password != "" {
			notes = append(notes, "password set")
		}
		logger.Printf("  account %s  %-4s %12s  %s", sim.Mask(c.Account), c.Name, c.Balance.String(), strings.Join(notes, ", "))
	}
}
