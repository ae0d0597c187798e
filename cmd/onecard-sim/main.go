// Command onecard-sim serves the one-card platform simulator
// (agent/onecard/sim) over HTTP, for demos, for trying a kiosk or kioskctl
// without a campus, and for other clients of the platform.
//
// Usage:
//
//	onecard-sim [flags]
//
// Flags (each may be written with one dash or two):
//
//	--listen ADDR               address to listen on (default 127.0.0.1:8090)
//	--config FILE               simulator settings in YAML (sim.yaml, below)
//	--demo DIR                  demo mode: on first run generate into DIR a client
//	                            key pair, a platform key pair, an app secret,
//	                            sim.yaml and kiosk.yaml; later runs reuse them
//	--cards FILE                YAML or JSON list of cards (default: the demo set)
//	--app-key K                 the app key the platform accepts
//	--app-secret-file F         file holding the app secret (base64 of 24 bytes)
//	--client-public-key F       PEM public key that verifies request signatures
//	--platform-private-key F    PEM private key that signs replies (absent: unsigned)
//	--timezone ZONE             platform time zone (default Asia/Shanghai)
//	--token-ttl D               access token lifetime (default 2h)
//	-v                          log every request (no secrets, tokens or full numbers)
//	--strict                    refuse request fields v2.42 does not list (retcode
//	                            40015, "unknown field"), query.card's extensions too
//	-h, --help                  this help
//
// Beyond the spec: like a platform in the field, the simulator answers the
// query.card extensions a public one-card SDK sends (get_idinfo,
// get_accinfo, getschcode, getcardid: identity fields, an accinfo list, the
// accounting unit, the physical card number; the sim package documentation
// gives their shapes) and ignores any other request field v2.42 does not
// list, naming it in the -v log. --strict refuses them all instead, for
// testing that a client sends the spec's fields only.
//
// Field variations: a real platform may protect the terminal less than
// the simulator does by default (the spec notes, "What the platform may
// not do for you"). These flags make it behave so:
//
//	--refunds-uncapped          accept a refund beyond what is left of the payment
//	                            (default: refuse it with 60058)
//	--query-forgets-refunds     pay.query answers 78 for a refund's own order_no
//	--hold-fraction F           hold this share (0 to 1) of pays and refunds: close
//	                            the connection unanswered, process them later
//	--hold-for D                how long a held request waits (required with
//	                            --hold-fraction above 0)
//	--hold-seed N               seed choosing the held requests (default 0): the
//	                            same seed and requests hold the same ones
//	--duplicate-reply MODE      answer to a reused order_no: 60045 (default), 60070,
//	                            or replay (a resend of the same request gets its
//	                            recorded outcome again; anything else 60045)
//	--wrong-password-retcode R  answer to a query.card pwd that is not the card's
//	                            password: 60003 (default, like an unknown identity)
//	                            or another retcode (1 to 8 digits, not 0); either
//	                            way the reply carries no card
//
// Held requests can be listed and released through the admin endpoints
// (GET /_sim/held, POST /_sim/held/release); a "late" fault holds chosen
// requests the same way. sim.yaml sets them too (refunds_uncapped: true,
// query_forgets_refunds: true, hold: {fraction: F, for: D, seed: N},
// duplicate_reply: MODE, wrong_password_retcode: R, strict: true), a flag
// given overriding its key.
//
// Settings come from the built-in defaults, then the --config file (with
// --demo: DIR/sim.yaml), then the flags, each overriding the one before.
// Without --demo, --app-key, --app-secret-file and --client-public-key (or
// their sim.yaml keys) are required.
//
// sim.yaml keys, with paths relative to the file's directory:
//
//	listen: 127.0.0.1:8090
//	app_key: campus-kiosk-demo
//	app_secret_file: app-secret.txt
//	client_public_key: client-public.pem
//	platform_private_key: platform-private.pem
//	timezone: Asia/Shanghai
//	token_ttl: 2h
//	token_min_interval: 2m
//	main_path: /tsm
//	processing_for: 0s     # pay.query reports younger orders as 20 (processing)
//	cards_file: cards.yaml # or cards: [ {account: "100001", name: 张三, balance_fen: 10000, ...} ]
//
// Card fields: account, name, sno, cardid, barcode, phone, cert, certtype,
// balance_fen, unsettle_fen, lost, frozen, cardtype, cardname, createdate,
// expdate, bankacc, password, and for the query.card extensions sex,
// deptcode, deptname, pidcode, pidname, schcode. Balances are in fen.
// password is the card's query password (query.card pwd, at most 32
// bytes): empty accepts any pwd. The demo set gives every card a 6-digit
// one (赵六's two cards share theirs). The log says which cards have one,
// never the password, and /_sim/stats counts password_checks and
// password_failures.
//
// In demo mode DIR (mode 0700) receives client-private.pem,
// client-public.pem, platform-private.pem, platform-public.pem and
// app-secret.txt (all 0600) and sim.yaml, once, and kiosk.yaml on every
// run: a configuration for the kiosk and kioskctl (agent/config) pointing
// at this simulator's actual address, with termid 17, mercacc 100000,
// acctype ### and its store at DIR/kiosk.db, the kiosk window's keyboard
// as a card reader and the demo's screens (menu, diagnostics PIN 0000).
// kiosk --demo prepares the same directory (package cmd/internal/demo),
// with the simulator inside the kiosk. The demo keys are made on the
// machine that runs the demo; never commit them.
//
// The simulator serves the API on http://ADDR/tsm and the bill download on
// http://ADDR/onecard/uap/downbill.do, and admin endpoints for faults, the
// clock, held requests, the ledger and statistics under http://ADDR/_sim/ (see the
// onecardtest package). They are not authenticated: keep the simulator on
// a loopback address. The ledger lives in memory and starts afresh with
// every run.
//
// SIGINT or SIGTERM shuts the server down gracefully. Exit status: 0 after
// a clean shutdown or --help, 1 when serving fails, 2 for a usage or
// configuration error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/campuspos/kiosk/cmd/internal/cli"
	"github.com/campuspos/kiosk/cmd/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitServe = 1
	exitUsage = 2
)

// run is main without the process. ready, when not nil, is called with the
// main API URL once the server accepts connections and the demo files are
// written.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(url string)) int {
	opts, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		err = serve(ctx, opts, stderr, ready)
	}
	var ue *cli.UsageError
	var de *demo.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &de):
		fmt.Fprintf(stderr, "onecard-sim: %v\nRun onecard-sim --help for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "onecard-sim: %v\n", err)
		return exitServe
	}
}

// flags are the command line as given; empty strings were not set.
type flags struct {
	listen, config, demo, cards                    string
	appKey, appSecretFile, clientPub, platformPriv string
	timezone, tokenTTL                             string
	verbose                                        bool
	modes                                          modeFlags
}

const usageText = `usage: onecard-sim [flags]

A simulator of the Synjones one-card platform (API v2.42).

flags:
  --listen ADDR              address to listen on (default 127.0.0.1:8090)
  --config FILE              simulator settings in YAML (keys: listen app_key
                             app_secret_file client_public_key platform_private_key
                             timezone token_ttl token_min_interval main_path
                             processing_for cards_file cards)
  --demo DIR                 demo mode: generate keys, an app secret, sim.yaml and
                             kiosk.yaml into DIR on first run, reuse them later
  --cards FILE               YAML or JSON list of cards (default: the demo set)
  --app-key K                app key the platform accepts
  --app-secret-file F        file with the app secret (base64 of 24 bytes)
  --client-public-key F      PEM public key verifying request signatures
  --platform-private-key F   PEM private key signing replies (absent: unsigned)
  --timezone ZONE            platform time zone (default Asia/Shanghai)
  --token-ttl D              access token lifetime (default 2h)
  -v                         log every request
  --strict                   refuse request fields v2.42 does not list (retcode
                             40015), query.card's extensions get_idinfo get_accinfo
                             getschcode getcardid too (default: answer those, ignore
                             and log the others)
  -h, --help                 this help

field variations (a real platform may protect the terminal less; sim.yaml keys too):
  --refunds-uncapped         accept a refund beyond what is left of the payment
                             (default: refuse it with 60058)
  --query-forgets-refunds    pay.query answers 78 for a refund's own order_no
  --hold-fraction F          hold this share (0 to 1) of pays and refunds: close
                             the connection unanswered, process them later
  --hold-for D               how long a held request waits (needed with
                             --hold-fraction above 0)
  --hold-seed N              seed choosing the held requests (default 0)
  --duplicate-reply MODE     answer to a reused order_no: 60045 (default), 60070,
                             or replay (the same request again gets its recorded
                             outcome, anything else 60045)
  --wrong-password-retcode R answer to a query.card pwd that is not the card's
                             password: 60003 (default, as for an unknown identity)
                             or another retcode (1 to 8 digits); no card either way

Flags override the --config file (with --demo, DIR/sim.yaml).
Admin endpoints: GET/POST/DELETE /_sim/faults, GET/POST /_sim/clock,
GET/POST /_sim/processing, GET /_sim/ledger, GET /_sim/stats,
GET /_sim/held, POST /_sim/held/release.
Exit status: 0 clean shutdown, 1 serving failed, 2 usage or config error.
`

func parseFlags(args []string, stdout io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("onecard-sim", flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", "", "")
	fs.StringVar(&f.config, "config", "", "")
	fs.StringVar(&f.demo, "demo", "", "")
	fs.StringVar(&f.cards, "cards", "", "")
	fs.StringVar(&f.appKey, "app-key", "", "")
	fs.StringVar(&f.appSecretFile, "app-secret-file", "", "")
	fs.StringVar(&f.clientPub, "client-public-key", "", "")
	fs.StringVar(&f.platformPriv, "platform-private-key", "", "")
	fs.StringVar(&f.timezone, "timezone", "", "")
	fs.StringVar(&f.tokenTTL, "token-ttl", "", "")
	fs.BoolVar(&f.verbose, "v", false, "")
	f.modes.register(fs)
	if err := cli.Parse(fs, args, stdout, usageText); err != nil {
		return f, err
	}
	if f.demo != "" && f.config != "" {
		return f, cli.Usagef("--demo uses DIR/sim.yaml; give --demo or --config, not both")
	}
	if err := f.modes.check(); err != nil {
		return f, &cli.UsageError{Err: err}
	}
	return f, nil
}
