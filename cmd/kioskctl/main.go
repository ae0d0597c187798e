// Command kioskctl is the headless tool for technicians and integrators: it
// performs each one-card platform call from the command line with the
// terminal's own configuration, store and token.
//
// Usage:
//
//	kioskctl [--config FILE] [--json] COMMAND [flags]
//
// Commands:
//
//	token  [--refresh]                      show the access token's expiry (never the token)
//	card   --idtype T --id X [--pwd-prompt]  look up the cards of an identity (T: sno id phone acc cardid barcode);
//	                                        --pwd-prompt checks the card's password, read from the terminal
//	                                        without echo, or one line of stdin when it is not a terminal
//	pay    --account A --amount 12.34 [--acctype ###] [--order-no N] [--remark R] [--attach X]
//	refund --order-no ORIGINAL --amount X [--refund-no N]
//	query  ORDER_NO... [--account A] [--acctype T]
//	bill   --date YYYYMMDD [--type ALL|SUCCESS] [--crypt 0|1] [--out FILE] [--reconcile]
//	queue  [--state S] [--limit N]
//	reconcile
//	export --from YYYYMMDD [--to YYYYMMDD] [--out FILE]
//	check
//	diag   devices
//	diag   scan --device SPEC [--count N] [--timeout D] [--raw]
//	diag   capture --device SPEC --out FILE [--timeout D]
//
// The config file defaults to $KIOSK_CONFIG, then /etc/campus-kiosk/kiosk.yaml.
// diag needs none: it takes a device SPEC (see device.ParseSpec), such as
// serial:/dev/ttyUSB0?baud=9600&frame=crlf or replay:capture.txt?as=hid-pos.
//
// Exit status: 0 success; 1 the call failed and left nothing to confirm:
// declined by the platform, or it never reached it; for every command but
// pay and refund also the platform busy (errcode -1, -2) or no trustworthy
// reply, since they change no order or balance (or, reconcile and bill
// --reconcile, journal what they send for the reconciler): try again; for
// diag, the device failed or gave fewer scans than --count; 2 usage or
// config error, or refused before sending; 3 pay and refund only: outcome
// unknown (the request was sent and no trustworthy answer came back:
// confirm with `kioskctl query`); 4 card --pwd-prompt only: the platform
// refused the card's password (or knows no such card). See exitCode.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return runWithStdin(ctx, args, os.Stdin, stdout, stderr, getenv)
}

// runWithStdin is run with another standard input (card --pwd-prompt
// reads the password from it).
func runWithStdin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	return c.run(ctx, args)
}
