package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/logging"
)

// Exit statuses.
const (
	exitOK       = 0
	exitDeclined = 1
	exitUsage    = 2
	exitUnknown  = 3
	// exitWrongPassword: card --pwd-prompt, the platform refused the
	// card's password (or knows no such card: a platform may answer both
	// alike).
	exitWrongPassword = 4
)

// DefaultConfig is where kioskctl looks without --config or $KIOSK_CONFIG.
const DefaultConfig = "/etc/campus-kiosk/kiosk.yaml"

type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	json           bool
	// kind is the running command's, once it runs: until then nothing was
	// sent, and a failure is repeatable.
	kind kind
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const usage = `usage: kioskctl [--config FILE] [--json] [--verbose] COMMAND [flags]

commands:
  token  [--refresh]                       show the access token's expiry (never the token itself)
  card   --idtype T --id X [--pwd-prompt]  look up an identity's cards (T: sno id phone acc cardid barcode);
                                           --pwd-prompt also checks the card's password: it is read from the
                                           terminal without echo or, when stdin is not a terminal, as one
                                           line of stdin (scripts); never from the command line
  pay    --account A --amount 12.34 [--acctype ###] [--order-no N] [--remark R] [--attach X]
  refund --order-no ORIGINAL --amount X [--refund-no N]
  query  ORDER_NO... [--account A] [--acctype T]
  bill   --date YYYYMMDD [--type ALL|SUCCESS] [--crypt 0|1] [--out FILE] [--reconcile]
  queue  [--state S] [--limit N]           journal entries, newest first
  reconcile                                one reconciliation pass: settle what can be settled now
  resolve ORDER_NO --as STATE --note TEXT  end a needs_review order's review with what the platform says
  export --from YYYYMMDD [--to YYYYMMDD] [--out FILE]   the journal as CSV
  report [--date YYYYMMDD | --from YYYYMMDD [--to YYYYMMDD]] [--csv]
                                           the day report: payments by outcome, refunds, and the bill once settled
  check                                    full check of the terminal database (slow on a big journal)
  status                                   ask the running kiosk (its status endpoint): health, journal, token, clock, devices
  diag   devices | scan --device SPEC [--count N] [--timeout D] [--raw] | capture --device SPEC --out FILE [--timeout D]
                                           scanners and card readers (needs no config)

exit status: 0 ok
             1 failed, nothing left to confirm: declined by the platform, never sent, a device or the kiosk
               failed; for every command but pay and refund also the platform busy (errcode -1, -2) or no
               trustworthy reply: try again
             2 usage or config error, or refused before sending (a refund while an earlier one is
               unconfirmed: settle that first; query: an order not in the journal, without --account)
             3 pay and refund only: outcome unknown: confirm it with kioskctl query ORDER_NO first
             4 card --pwd-prompt only: the platform refused the card's password (a wrong password, or no
               card with that identity: a platform may answer both alike)
`

func (c *cli) run(ctx context.Context, args []string) int {
	global := flag.NewFlagSet("kioskctl", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	cfgPath := global.String("config", "", "configuration file")
	global.BoolVar(&c.json, "json", false, "print one JSON object on stdout")
	verbose := global.Bool("verbose", false, "log every platform call and order change on stderr")
	if err := global.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(c.stderr, usage)
		return exitOK
	} else if err != nil {
		return c.fail(usagef("%v", err))
	}
	rest := global.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" {
		fmt.Fprint(c.stderr, usage)
		if len(rest) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, cmdArgs := rest[0], rest[1:]
	spec, ok := commands()[cmd]
	if !ok {
		return c.fail(usagef("unknown command %q", cmd))
	}
	path := *cfgPath
	if path == "" {
		path = c.getenv("KIOSK_CONFIG")
	}
	if path == "" {
		path = DefaultConfig
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	exec := spec.run(fs)
	pos, err := parseInterspersed(fs, cmdArgs)
	if err != nil {
		return c.fail(usagef("%s: %v", cmd, err))
	}
	var a *app.App
	if withoutConfig()[cmd] {
		// Only the configuration, if there is one, for device names: no
		// store, no platform.
		cfg, err := config.Load(path)
		a = &app.App{Config: cfg, ConfigErr: err}
	} else {
		cfg, err := config.Load(path)
		if err != nil {
			return c.fail(err)
		}
		for _, w := range cfg.Warnings {
			fmt.Fprintln(c.stderr, "warning:", w)
		}
		var hooks app.Hooks
		if *verbose {
			// stderr: stdout is the command's output, JSON with --json.
			lc := cfg.Log
			lc.Level = "debug"
			log, err := logging.New(c.stderr, lc)
			if err != nil {
				return c.fail(err)
			}
			orders := logging.NewOrderLog(log)
			hooks = app.Hooks{Call: orders.Call, Order: orders.Order}
		}
		if a, err = app.OpenWith(cfg, agent.SystemClock{}, hooks); err != nil {
			return c.fail(err)
		}
		defer a.Close()
	}
	c.kind = spec.kind
	out, err := exec(withConsole(ctx, console{stdin: c.stdin, stderr: c.stderr}), a, pos)
	if err != nil && out.obj == nil {
		return c.fail(err)
	}
	if err != nil {
		// The command has a record to show even though it failed (a pay
		// that was declined or whose outcome is unknown, a query the
		// platform answered only in part).
		m, _ := out.obj.(map[string]any)
		out.code = c.explain(err, out.advice, m)
	}
	return c.print(out)
}

// withoutConfig lists the commands that run without the terminal's store
// and platform: their *app.App carries only the configuration, if one
// loads (Config nil and ConfigErr set otherwise). diag is one: a
// technician must be able to test a scanner on a machine without a
// configuration, and while the kiosk holds the store. status is another:
// it asks the running kiosk, which holds the store. report opens the store
// itself, and asks the running kiosk when it holds it.
func withoutConfig() map[string]bool {
	return map[string]bool{"diag": true, "status": true, "report": true}
}

// parseInterspersed lets flags follow positional arguments
// (`query 123 456 --account 7`), as technicians type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// result is what a command prints: text for people, an object for --json.
type result struct {
	text string
	obj  any
	// code lets a command that partly failed say so (query with orders
	// it could not send).
	code int
	// advice, for a command that failed with a record to show, is what to
	// do about it: printed on stderr after the error, in either mode.
	advice string
	// raw, when set, is printed as it is in either mode (a CSV export).
	raw []byte
	// stream, when set, is a command whose output comes as it happens
	// (diag scan prints each scan as it arrives): print runs it with
	// the outputs and the --json mode, and its error is the command's.
	stream func(stdout, stderr io.Writer, json bool) error
}

func (c *cli) print(r result) int {
	if r.stream != nil {
		if err := r.stream(c.stdout, c.stderr, c.json); err != nil {
			return c.fail(err)
		}
		return r.code
	}
	if r.raw != nil {
		if _, err := c.stdout.Write(r.raw); err != nil {
			return c.explain(err, "", nil)
		}
		return r.code
	}
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.obj); err != nil {
			return c.explain(err, "", nil)
		}
	} else {
		fmt.Fprint(c.stdout, r.text)
	}
	return r.code
}

// What a technician does after a failure, by exitCode.
const (
	adviceTryAgain = "whatever became of the request, this command leaves nothing to confirm: try again."
	adviceConfirm  = "the outcome is unknown: confirm it with `kioskctl query ORDER_NO` before doing anything else."
)

// exitCode decides the exit status of a failed command of kind k, the
// outcome --json names, and what to do next ("" when the error says it):
// from what the call was, and what the error means. The agent's answers
// (card lookups, payments) say it with the agent's errors; query, bill,
// refund and the token still return the wire's, read with onecard's tests.
func exitCode(k kind, err error) (code int, outcome, advice string) {
	var (
		ue *usageError
		ce *config.Error
		re *onecard.RequestError
		ir *agent.InvalidRequest
		de *diagError
		rb *agent.RefundBlockedError
		dd *agent.Declined
		or *agent.OfflineRefusal
		wp *wrongPasswordError
	)
	switch {
	case errors.As(err, &wp):
		// Asked and answered: the same password gets the same answer.
		return exitWrongPassword, "wrong_password", ""
	case errors.As(err, &rb):
		// Refused before anything was sent: an earlier refund of the
		// payment must be settled first.
		return exitUsage, "blocked", ""
	case errors.As(err, &de):
		// A device or the kiosk that failed or did not deliver: nothing
		// was sent to the platform.
		return exitDeclined, "failed", ""
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &re), errors.As(err, &ir),
		errors.Is(err, agent.ErrOrderNotFound), errors.Is(err, agent.ErrOrderExists), errors.Is(err, app.ErrInUse):
		return exitUsage, "usage", ""
	case errors.Is(err, agent.ErrCardNotFound):
		return exitDeclined, "not_found", ""
	case errors.As(err, &dd), errors.As(err, &or), errors.Is(err, agent.ErrTokenRateLimited),
		onecard.Declined(err) && !onecard.NotSent(err):
		// The platform (or the terminal's own limits) said no: trying
		// again gets the same answer.
		return exitDeclined, "declined", ""
	case platformFailed(err):
		switch {
		case k == repeatable:
			return exitDeclined, "failed", adviceTryAgain
		case errors.Is(err, agent.ErrPlatformUnreachable), onecard.NotSent(err):
			// Never left: nothing was charged or refunded.
			return exitDeclined, "declined", ""
		}
		return exitUnknown, "unknown", adviceConfirm
	case k == movesMoney:
		// Anything else may have happened after a request left: a payment
		// whose outcome could not be recorded is exactly as unknown as one
		// whose reply was lost.
		return exitUnknown, "unknown", adviceConfirm
	}
	// The journal, a file, the terminal itself: the error says what.
	return exitDeclined, "failed", ""
}

// platformFailed reports whether err is the platform failing to answer
// rather than answering no: never reached, busy or failing inside (errcode
// -1, -2), or no trustworthy reply (lost, timed out, HTTP 500, bare text,
// garbage, a bad signature).
func platformFailed(err error) bool {
	if errors.Is(err, agent.ErrOutcomeUnknown) || errors.Is(err, agent.ErrPlatformUnreachable) {
		return true
	}
	fromWire := errors.As(err, new(*onecard.TransportError)) || errors.As(err, new(*onecard.SystemError)) ||
		errors.As(err, new(*onecard.TextError)) || errors.As(err, new(*onecard.DecodeError)) ||
		errors.As(err, new(*onecard.SignatureError))
	return fromWire && (onecard.NotSent(err) || onecard.OutcomeUnknown(err))
}

// fail reports a command that failed with no record to show.
func (c *cli) fail(err error) int {
	obj := map[string]any{}
	code := c.explain(err, "", obj)
	if c.json {
		_ = json.NewEncoder(c.stdout).Encode(obj)
	}
	return code
}

// explain writes a failure on stderr: the error, then the record's own
// advice (before), then exitCode's. It adds them to obj, when there is one,
// for --json, and returns the exit status.
func (c *cli) explain(err error, before string, obj map[string]any) int {
	code, outcome, advice := exitCode(c.kind, err)
	fmt.Fprintln(c.stderr, "kioskctl:", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	fmt.Fprint(c.stderr, before)
	if advice != "" {
		fmt.Fprintln(c.stderr, "kioskctl:", advice)
	}
	if obj != nil {
		obj["error"], obj["outcome"], obj["exit"] = err.Error(), outcome, code
		if pc := onecard.ErrorCode(err); pc != "" {
			obj["code"] = pc
		}
		if advice != "" {
			obj["advice"] = advice
		}
	}
	return code
}
