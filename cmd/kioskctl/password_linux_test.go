package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/syncbuf"
)

// On a terminal, card --pwd-prompt prompts on stderr and reads the
// password with echo off: what the terminal shows holds no password. The
// real kioskctl runs in a child process whose stdin is a pseudo-terminal.
func TestCardPasswordFromTerminalNotEchoed(t *testing.T) {
	e := newEnv(t)
	master, slave, err := pty.Open()
	require.NoError(t, err)
	defer master.Close()
	defer slave.Close()
	// Everything the terminal shows (its echo), read as it comes: a pty
	// whose output nobody reads can block the writer.
	var shown syncbuf.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&shown, master)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout bytes.Buffer
	var stderr syncbuf.Buffer
	cmd := exec.CommandContext(ctx, os.Args[0], "--config", e.config, "card", "--idtype", "sno", "--id", "2024000002", "--pwd-prompt")
	cmd.Env = append(os.Environ(), "KIOSKCTL_TEST_AS_MAIN=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &stdout, &stderr
	require.NoError(t, cmd.Start())

	// Type only once the terminal no longer echoes.
	require.Eventually(t, func() bool {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		return err == nil && tio.Lflag&unix.ECHO == 0 && strings.Contains(stderr.String(), "card password: ")
	}, 30*time.Second, 5*time.Millisecond, "prompt and echo off; stderr %q", &stderr)
	_, err = master.Write([]byte(sim.DemoRichPassword + "\r"))
	require.NoError(t, err)
	require.NoError(t, cmd.Wait(), "stderr %q", stderr.String())

	assert.Contains(t, stdout.String(), sim.DemoRich)
	assert.True(t, strings.HasSuffix(stdout.String(), "password: right\n"), stdout.String())
	assert.NotContains(t, stdout.String()+stderr.String(), sim.DemoRichPassword)
	tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	require.NoError(t, err)
	assert.NotZero(t, tio.Lflag&unix.ECHO, "the terminal echoes again")

	require.NoError(t, slave.Close())
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
	}
	assert.NotContains(t, shown.String(), sim.DemoRichPassword, "the terminal did not echo the password")
	assert.Equal(t, 1, e.simulator.Stats().PasswordChecks)
}
