package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/cmd/internal/app"
)

// The card's query password (query.card pwd) is read by `card
// --pwd-prompt`, never taken from the command line, where the shell's
// history and the process list would keep it: from the terminal without
// echo, or, when stdin is not a terminal, as one line of stdin (scripts,
// tests). It is sent as pwd and appears in no output, error or log.

// maxPasswordLine bounds the line read from stdin: pwd is String(32), so
// anything much longer is not a password.
const maxPasswordLine = 1024

// promptFlag is --pwd-prompt, a switch. Unlike a flag.Bool it never fails
// on a value, since the flag package would echo the value in its error: a
// password typed as --pwd-prompt=secret. misused records such a value, and
// the command refuses it without repeating it.
type promptFlag struct{ on, misused bool }

func (p *promptFlag) IsBoolFlag() bool { return true }

func (p *promptFlag) String() string { return strconv.FormatBool(p != nil && p.on) }

func (p *promptFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	p.on, p.misused = b || err != nil, p.misused || err != nil
	return nil
}

// console is the command's standard input and error, which card
// --pwd-prompt reads the password from and prompts on; cli.run puts it in
// the command's context.
type console struct {
	stdin  io.Reader
	stderr io.Writer
}

type consoleKey struct{}

func withConsole(ctx context.Context, c console) context.Context {
	return context.WithValue(ctx, consoleKey{}, c)
}

func consoleOf(ctx context.Context) console {
	c, _ := ctx.Value(consoleKey{}).(console)
	if c.stdin == nil {
		c.stdin = os.Stdin
	}
	if c.stderr == nil {
		c.stderr = os.Stderr
	}
	return c
}

// readPassword reads the card's password: when stdin is a terminal, with
// a prompt on prompt and without echo (ctx cancelled, by Ctrl-C, gives up
// and puts the terminal back); otherwise one line of stdin.
func readPassword(ctx context.Context, stdin io.Reader, prompt io.Writer) (string, error) {
	var pwd string
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var err error
		if pwd, err = readFromTerminal(ctx, int(f.Fd()), prompt); err != nil {
			return "", err
		}
	} else {
		line, err := bufio.NewReaderSize(io.LimitReader(stdin, maxPasswordLine), maxPasswordLine).ReadString('\n')
		switch {
		case err != nil && !errors.Is(err, io.EOF):
			return "", usagef("--pwd-prompt: reading the password from stdin: %v", err)
		case err != nil && line == "":
			return "", usagef("--pwd-prompt: stdin is not a terminal and holds no line: give the password as one line of stdin")
		case err != nil && len(line) == maxPasswordLine:
			return "", usagef("--pwd-prompt: the line on stdin is over %d bytes: not a card password", maxPasswordLine)
		}
		pwd = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	}
	if pwd == "" {
		return "", usagef("--pwd-prompt: the password is empty")
	}
	for _, r := range pwd {
		if r < 0x20 || r == 0x7f {
			return "", usagef("--pwd-prompt: the password holds a control character")
		}
	}
	return pwd, nil
}

// readFromTerminal prompts and reads a line without echo.
func readFromTerminal(ctx context.Context, fd int, prompt io.Writer) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", fmt.Errorf("--pwd-prompt: %w", err)
	}
	fmt.Fprint(prompt, "card password: ")
	type read struct {
		b   []byte
		err error
	}
	done := make(chan read, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- read{b, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(prompt)
		if r.err != nil {
			return "", fmt.Errorf("--pwd-prompt: reading the password: %w", r.err)
		}
		return string(r.b), nil
	case <-ctx.Done():
		// The read goes on until the process ends; the terminal must not
		// stay without echo.
		_ = term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", ctx.Err()
	}
}

// wrongPasswordError is a query.card with pwd that the platform refused.
// A platform may answer a wrong password with a retcode of its own or with
// "account not found" (spec notes): after a pwd query both mean the
// password was not accepted, and an unknown identity reads the same.
type wrongPasswordError struct{ refusal *onecard.BusinessError }

func (e *wrongPasswordError) Error() string {
	return fmt.Sprintf("the platform refused the card password (retcode %s): a wrong password, or no card with this identity (a platform may answer both alike)", e.refusal.Retcode)
}

func (e *wrongPasswordError) Unwrap() error { return e.refusal }

// queryCardWithPassword asks query.card with pwd through the terminal's
// token, once more with a fresh token when the platform calls it invalid,
// as the agent's own calls do. The agent's lookup (Service.QueryCard)
// carries no password yet; once it does, this goes.
func queryCardWithPassword(ctx context.Context, a *app.App, q onecard.CardQuery) ([]agent.Card, error) {
	tokens := a.Service.Platform().Tokens()
	tok, err := tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	found, err := a.Client.QueryCard(ctx, tok, q)
	if se, ok := errors.AsType[*onecard.SystemError](err); ok && se.TokenInvalid() {
		if tok, err = tokens.Invalidate(ctx, tok); err != nil {
			return nil, err
		}
		found, err = a.Client.QueryCard(ctx, tok, q)
	}
	if be, ok := errors.AsType[*onecard.BusinessError](err); ok {
		return nil, &wrongPasswordError{refusal: be}
	}
	if err != nil {
		return nil, err
	}
	cards := make([]agent.Card, 0, len(found))
	for _, c := range found {
		cards = append(cards, agent.Card{
			Account: c.Account, Name: c.Name, Balance: c.Balance, Unsettled: c.UnsettleAmount,
			Lost: c.Lost, Frozen: c.Frozen, Expires: c.ExpDate, CardType: c.CardType, CardName: c.CardName,
			BarcodeEnabled: c.BarcodeEnabled, SNo: c.SNo, Phone: c.Phone, Cert: c.Cert,
		})
	}
	return cards, nil
}
