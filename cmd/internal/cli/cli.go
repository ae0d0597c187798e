// Package cli holds what the programs' command lines share: the usage
// error (a mistake in the flags or the configuration, exit status 2) and
// flag parsing that prints the usage text on -h.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// UsageError is a mistake in the flags or the configuration: the program
// says what, points at --help and exits with status 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the mistake.
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef is a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// Parse parses args with fs, which must take no positional arguments. On
// -h or --help it prints usage to stdout and returns flag.ErrHelp; a bad
// flag or an argument is a *UsageError. fs's own output is discarded: the
// programs print their usage text, not the flag package's.
func Parse(fs *flag.FlagSet, args []string, stdout io.Writer, usage string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return err
		}
		return Usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
