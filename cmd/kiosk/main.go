// Command kiosk is the program that runs on the terminal: the touch screens
// for students (self-service), canteen cashiers and technicians
// (diagnostics), over the payment agent, the scanners and the journal.
//
// Usage:
//
//	kiosk [--config FILE] [--windowed]
//	kiosk --demo DIR [--windowed]
//	kiosk --hash-pin < pin.txt
//
// Flags (each may be written with one dash or two):
//
//	--config FILE   the configuration (default $KIOSK_CONFIG, then
//	                /etc/campus-kiosk/kiosk.yaml); configs/kiosk.example.yaml
//	                explains every key
//	--windowed      a window instead of the full screen, for development
//	--demo DIR      run against a simulated platform inside this process,
//	                with demo keys generated into DIR on the first run and
//	                DIR/kiosk.yaml written on every run; the window's keyboard
//	                is a card reader (type a demo card number, press Enter),
//	                and diagnostics (PIN 0000) can pull the network
//	--hash-pin      read a diagnostics PIN (4 to 12 digits) from the first
//	                line of stdin and print the ui.pin_hash line for it
//	-h, --help      this help
//
// SIGINT or SIGTERM closes the window, stops the scanners and the
// reconciler and closes the journal; the exit status is then 0. It is 1
// when the kiosk cannot start or run (no display, the database held by
// another process), 2 for a usage or configuration error.
//
// When the environment variable KIOSK_STATE_FILE names a file, the kiosk
// keeps its screen state there as one JSON object (mode, screen, online,
// unfinished, last_result), replaced atomically whenever it changes: a
// supervisor or a smoke test can watch the kiosk without scraping pixels.
package main

import (
	// First: a C locale must read as English before Fyne initializes.
	_ "github.com/campuspos/kiosk/cmd/internal/clocale"

	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/cmd/internal/cli"
	"github.com/campuspos/kiosk/cmd/internal/demo"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// defaultConfig is where an installed kiosk keeps its configuration, as
// for kioskctl.
const defaultConfig = "/etc/campus-kiosk/kiosk.yaml"

// Bounds of a diagnostics PIN: it is typed on the on-screen keypad, so
// digits only, and long enough that guessing at the screen is tedious.
const (
	minPINLen = 4
	maxPINLen = 12
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, stop, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// flags are the command line as given.
type flags struct {
	config, demo      string
	windowed, hashPIN bool
}

const usageText = `usage: kiosk [--config FILE] [--windowed]
       kiosk --demo DIR [--windowed]
       kiosk --hash-pin < pin.txt

The campus payment kiosk: touch screens for students, cashiers and
technicians.

flags:
  --config FILE   configuration (default $KIOSK_CONFIG, then
                  /etc/campus-kiosk/kiosk.yaml)
  --windowed      a window instead of the full screen (development)
  --demo DIR      against a simulated platform in this process; demo keys
                  made in DIR on the first run, DIR/kiosk.yaml on every run;
                  type a demo card number and Enter; diagnostics PIN 0000
  --hash-pin      read a PIN (4-12 digits) from stdin, print its
                  ui.pin_hash line
  -h, --help      this help

Exit status: 0 after SIGTERM/SIGINT or the window closed, 1 cannot start or
run, 2 usage or configuration error.
`

func parseFlags(args []string, stdout io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("kiosk", flag.ContinueOnError)
	fs.StringVar(&f.config, "config", "", "")
	fs.StringVar(&f.demo, "demo", "", "")
	fs.BoolVar(&f.windowed, "windowed", false, "")
	fs.BoolVar(&f.hashPIN, "hash-pin", false, "")
	if err := cli.Parse(fs, args, stdout, usageText); err != nil {
		return f, err
	}
	if f.demo != "" && f.config != "" {
		return f, cli.Usagef("--demo writes and uses DIR/%s; give --demo or --config, not both", demo.KioskYAML)
	}
	if f.hashPIN && (f.demo != "" || f.config != "" || f.windowed) {
		return f, cli.Usagef("--hash-pin takes no other flag")
	}
	return f, nil
}

// run is main without the process. stop ends ctx's signal handling, so
// that a second Ctrl-C while shutting down kills the kiosk outright.
func run(ctx context.Context, stop func(), args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	f, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil {
		if f.hashPIN {
			err = hashPIN(stdin, stdout, stderr)
		} else {
			err = start(ctx, stop, f, stderr, getenv)
		}
	}
	var ue *cli.UsageError
	var de *demo.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.As(err, &de), len(config.Errors(err)) > 0:
		fmt.Fprintf(stderr, "kiosk: %v\nRun kiosk --help for usage.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "kiosk: %v\n", err)
		return exitFail
	}
}

// hashPIN prints the ui.pin_hash line for the PIN on stdin's first line.
// The PIN comes from stdin, not an argument, so that it stays out of the
// shell history and the process list.
func hashPIN(stdin io.Reader, stdout, stderr io.Writer) error {
	line, err := bufio.NewReader(io.LimitReader(stdin, 256)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("--hash-pin: reading stdin: %w", err)
	}
	pin := strings.TrimRight(line, "\r\n")
	if len(pin) < minPINLen || len(pin) > maxPINLen || strings.Trim(pin, "0123456789") != "" {
		return cli.Usagef("--hash-pin: want a PIN of %d to %d digits on stdin (it is typed on the on-screen keypad)", minPINLen, maxPINLen)
	}
	if len(pin) < config.SafePINLen {
		fmt.Fprintf(stderr, "kiosk: warning: a PIN of %d digits is quickly guessed; use %d or more\n", len(pin), config.SafePINLen)
	}
	_, err = fmt.Fprintf(stdout, "pin_hash: %q\n", config.HashPIN(pin))
	return err
}

// configPath picks the configuration file: the flag, then $KIOSK_CONFIG,
// then the installed default.
func configPath(f flags, getenv func(string) string) string {
	if f.config != "" {
		return f.config
	}
	if p := getenv("KIOSK_CONFIG"); p != "" {
		return p
	}
	return defaultConfig
}
