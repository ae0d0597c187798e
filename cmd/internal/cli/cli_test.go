package cli_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/cmd/internal/cli"
)

func TestUsageErrorWraps(t *testing.T) {
	err := cli.Usagef("x: %w", os.ErrNotExist)
	var ue *cli.UsageError
	assert.True(t, errors.As(err, &ue))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestParse(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string) {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		return fs, fs.String("config", "", "")
	}
	var out bytes.Buffer
	fs, config := newFS()
	require.NoError(t, cli.Parse(fs, []string{"--config", "a.yaml"}, &out, "usage"))
	assert.Equal(t, "a.yaml", *config)
	assert.Empty(t, out.String())

	fs, _ = newFS()
	assert.ErrorIs(t, cli.Parse(fs, []string{"-h"}, &out, "usage: x\n"), flag.ErrHelp)
	assert.Equal(t, "usage: x\n", out.String(), "help prints the program's usage text")

	var ue *cli.UsageError
	for _, args := range [][]string{{"--nope"}, {"extra"}} {
		fs, _ = newFS()
		assert.ErrorAs(t, cli.Parse(fs, args, &out, "usage"), &ue, "%v", args)
	}
}
