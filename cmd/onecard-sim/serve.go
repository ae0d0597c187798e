package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The platform's zone must load where the machine has no zoneinfo.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
)

// Defaults of the settings.
const (
	defaultListen   = "127.0.0.1:8090"
	defaultTimezone = "Asia/Shanghai"
	// maxFileSize bounds every file the simulator reads: keys, secrets and
	// card lists are small, so anything larger is a wrong path.
	maxFileSize = 1 << 20
	// shutdownGrace is how long a shutdown waits for requests in flight.
	shutdownGrace = 5 * time.Second
)

// settings mirror sim.yaml. Paths are absolute once loaded.
type settings struct {
	Listen             string             `yaml:"listen,omitempty"`
	AppKey             string             `yaml:"app_key,omitempty"`
	AppSecretFile      string             `yaml:"app_secret_file,omitempty"`
	ClientPublicKey    string             `yaml:"client_public_key,omitempty"`
	PlatformPrivateKey string             `yaml:"platform_private_key,omitempty"`
	Timezone           string             `yaml:"timezone,omitempty"`
	TokenTTL           string             `yaml:"token_ttl,omitempty"`
	TokenMinInterval   string             `yaml:"token_min_interval,omitempty"`
	MainPath           string             `yaml:"main_path,omitempty"`
	ProcessingFor      string             `yaml:"processing_for,omitempty"`
	CardsFile          string             `yaml:"cards_file,omitempty"`
	Cards              []onecardtest.Card `yaml:"cards,omitempty"`
}

// loadSettings reads a sim.yaml; "" gives empty settings.
func loadSettings(path string) (settings, error) {
	var st settings
	if path == "" {
		return st, nil
	}
	data, err := readSmallFile(path)
	if err != nil {
		return st, usagef("--config: %w", err)
	}
	if err := decodeYAML(data, &st); err != nil {
		return st, usagef("%s: %w", path, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return st, usagef("%s: %w", path, err)
	}
	for _, p := range []*string{&st.AppSecretFile, &st.ClientPublicKey, &st.PlatformPrivateKey, &st.CardsFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return st, nil
}

// decodeYAML decodes strictly: a misspelt key is an error, not a silently
// ignored setting. An empty document leaves v alone.
func decodeYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// applyFlags lets the command line override the file.
func (st *settings) applyFlags(f flags) {
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
		st.Listen = defaultListen
	}
	if st.Timezone == "" {
		st.Timezone = defaultTimezone
	}
}

// options reads the files the settings name and returns the simulator's
// options; every problem is a usage error naming the setting.
func (st *settings) options() (onecardtest.Options, error) {
	var o onecardtest.Options
	var errs []error
	add := func(name string, err error) { errs = append(errs, usagef("%s: %w", name, err)) }

	o.AppKey = st.AppKey
	if o.AppKey == "" {
		add("app_key (--app-key)", errors.New("required"))
	}
	if st.AppSecretFile == "" {
		add("app_secret_file (--app-secret-file)", errors.New("required"))
	} else if data, err := readSmallFile(st.AppSecretFile); err != nil {
		add("app_secret_file", err)
	} else {
		o.AppSecret = strings.TrimSpace(string(data))
		if _, err := onecard.NewCipher(o.AppSecret); err != nil {
			add("app_secret_file", fmt.Errorf("%s: %w", st.AppSecretFile, err))
		}
	}
	if st.ClientPublicKey == "" {
		add("client_public_key (--client-public-key)", errors.New("required"))
	} else if data, err := readSmallFile(st.ClientPublicKey); err != nil {
		add("client_public_key", err)
	} else if o.ClientKey, err = onecard.ParsePublicKeyPEM(data); err != nil {
		add("client_public_key", fmt.Errorf("%s: %w", st.ClientPublicKey, err))
	}
	if st.PlatformPrivateKey != "" {
		if data, err := readSmallFile(st.PlatformPrivateKey); err != nil {
			add("platform_private_key", err)
		} else if o.PlatformKey, err = onecard.ParsePrivateKeyPEM(data); err != nil {
			add("platform_private_key", fmt.Errorf("%s: %w", st.PlatformPrivateKey, err))
		}
	}
	if st.Timezone == "Local" {
		add("timezone", errors.New(`"Local" depends on this machine; name the platform's zone`))
	} else if loc, err := time.LoadLocation(st.Timezone); err != nil {
		add("timezone", err)
	} else {
		o.Location = loc
	}
	durations := []struct {
		name string
		v    string
		dst  *time.Duration
	}{
		{"token_ttl", st.TokenTTL, &o.TokenTTL},
		{"token_min_interval", st.TokenMinInterval, &o.TokenMinInterval},
		{"processing_for", st.ProcessingFor, &o.ProcessingFor},
	}
	for _, d := range durations {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil {
			add(d.name, fmt.Errorf("%q is not a duration such as 2h or 90s", d.v))
			continue
		}
		*d.dst = v
	}
	o.MainPath = st.MainPath
	switch {
	case st.CardsFile != "":
		cards, err := loadCards(st.CardsFile)
		if err != nil {
			add("cards_file (--cards)", err)
		}
		o.Cards = cards
	case st.Cards != nil:
		o.Cards = st.Cards
	}
	return o, errors.Join(errs...)
}

// loadCards reads a YAML or JSON list of cards.
func loadCards(path string) ([]onecardtest.Card, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	var cards []onecardtest.Card
	if err := decodeYAML(data, &cards); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(cards) == 0 {
		return nil, fmt.Errorf("%s holds no cards", path)
	}
	return cards, nil
}

func readSmallFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return os.ReadFile(path)
}

// serve runs the simulator until ctx is done.
func serve(ctx context.Context, f flags, stderr io.Writer, ready func(string)) error {
	logger := log.New(stderr, "onecard-sim: ", log.LstdFlags)
	var demo *demoDir
	cfgPath := f.config
	if f.demo != "" {
		var err error
		if demo, err = prepareDemo(f.demo, logger); err != nil {
			return err
		}
		cfgPath = demo.simYAML
	}
	st, err := loadSettings(cfgPath)
	if err != nil {
		return err
	}
	st.applyFlags(f)
	opts, err := st.options()
	if err != nil {
		return err
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
	sim, err := onecardtest.NewHandler(opts)
	if err != nil {
		ln.Close()
		return usagef("%w", err)
	}
	defer sim.Close()
	if demo != nil {
		if err := demo.writeKioskYAML(sim.URL(), opts.AppKey, opts.AppSecret, st.Timezone); err != nil {
			ln.Close()
			return err
		}
		logger.Printf("kiosk configuration: %s (for kiosk and kioskctl --config)", demo.kioskYAML)
		logger.Printf("simulator configuration: %s", demo.simYAML)
	}
	logger.Printf("platform API on %s, bill download on %s, admin under %s%s", sim.URL(), sim.BillURL(), opts.BaseURL, onecardtest.AdminPrefix)
	where := "the built-in demo set"
	switch {
	case st.CardsFile != "":
		where = "full numbers in " + st.CardsFile
	case st.Cards != nil:
		where = "full numbers in " + cfgPath
	}
	logCards(logger, sim.Cards(), where)

	srv := &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(sim.URL())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	// Close first: it aborts requests held by a delay fault, which would
	// otherwise keep Shutdown waiting.
	sim.Close()
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
func logCards(logger *log.Logger, cards []onecardtest.Card, where string) {
	logger.Printf("%d cards (%s):", len(cards), where)
	for _, c := range cards {
		var notes []string
		if c.CardID != "" {
			notes = append(notes, "cardid "+onecardtest.Mask(c.CardID))
		}
		if c.Barcode != "" {
			notes = append(notes, "barcode "+onecardtest.Mask(c.Barcode))
		}
		if c.Lost {
			notes = append(notes, "LOST")
		}
		if c.Frozen {
			notes = append(notes, "FROZEN")
		}
		logger.Printf("  account %s  %-4s %12s  %s", onecardtest.Mask(c.Account), c.Name, c.Balance.String(), strings.Join(notes, ", "))
	}
}
