package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/cmd/internal/demo"
)

// What serve does with a sim.yaml that sets field variations and no flags.
func TestSimYAMLModesKeptWithoutFlags(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, _ := writeTestKeys(t, dir)
	path := filepath.Join(dir, "sim.yaml")
	require.NoError(t, os.WriteFile(path, []byte("app_key: k\napp_secret_file: "+secret+"\nclient_public_key: "+clientPub+
		"\nrefunds_uncapped: true\nhold: {fraction: 0.5, for: 1s}\nduplicate_reply: replay\nwrong_password_retcode: \"60099\"\n"), 0o600))
	f, err := parseFlags([]string{"--config", path}, os.Stdout)
	require.NoError(t, err)
	st, err := demo.LoadSimSettings(f.config)
	require.NoError(t, err)
	applyFlags(&st, f)
	opts, err := st.Options()
	require.NoError(t, err)
	f.modes.apply(&opts)
	assert.True(t, opts.RefundsUncapped)
	assert.Equal(t, 0.5, opts.Hold.Fraction)
	assert.Equal(t, "replay", opts.DuplicateReply)
	assert.Equal(t, "60099", opts.WrongPasswordRetcode)

	// A flag overrides the key.
	f, err = parseFlags([]string{"--config", path, "--wrong-password-retcode", "60003"}, os.Stdout)
	require.NoError(t, err)
	f.modes.apply(&opts)
	assert.Equal(t, "60003", opts.WrongPasswordRetcode)
}
