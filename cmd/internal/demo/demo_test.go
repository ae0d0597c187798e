package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/cmd/internal/app"
)

func TestPrepareAndKioskYAML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	d, err := Prepare(dir, logf)
	require.NoError(t, err)
	require.Len(t, logged, 1)
	assert.Contains(t, logged[0], "generated")

	st, err := LoadSimSettings(d.SimYAML)
	require.NoError(t, err)
	opts, err := st.Options()
	require.NoError(t, err)
	assert.Equal(t, AppKey, opts.AppKey)
	assert.NotNil(t, opts.ClientKey)
	assert.NotNil(t, opts.PlatformKey)
	assert.Equal(t, onecardtest.DemoCards(), opts.Cards)

	require.NoError(t, d.WriteKioskYAML("http://127.0.0.1:1/tsm", opts.AppKey, opts.AppSecret, opts.Location.String()))
	cfg, err := config.Load(d.KioskYAML)
	require.NoError(t, err)
	assert.Empty(t, cfg.Warnings)
	assert.Equal(t, d.Path(Store), cfg.Store.Path)
	assert.Equal(t, config.ModeCanteen, cfg.Terminal.Mode)
	assert.True(t, cfg.Offline.Enabled, "the demo shows offline acceptance")
	assert.Equal(t, config.ModeKiosk, cfg.UI.Mode)
	assert.Equal(t, Menu(), cfg.UI.Menu)
	assert.True(t, config.PINMatches(cfg.UI.PINHash, PIN))
	kb, ok := cfg.DeviceNamed(KeyboardDevice)
	require.True(t, ok)
	assert.Equal(t, "keyboard:?kind=card", kb.Spec)
	mapper := app.ScanMapper(cfg)
	for _, c := range onecardtest.DemoCards() {
		q, err := mapper.Query(agent.Scan{Device: KeyboardDevice, Kind: agent.ScanCard, Text: c.CardID})
		require.NoError(t, err)
		assert.Equal(t, onecard.CardQuery{IDType: "cardid", ID: c.CardID}, q)
		if c.Barcode != "" {
			q, err = mapper.Query(agent.Scan{Device: KeyboardDevice, Kind: agent.ScanCard, Text: c.Barcode})
			require.NoError(t, err)
			assert.Equal(t, onecard.CardQuery{IDType: "barcode", ID: c.Barcode}, q, "a payment code typed in is a QR code")
		}
	}
	var over bool
	for _, m := range cfg.UI.Menu {
		over = over || m.Price > cfg.Offline.MaxAmount
	}
	assert.True(t, over, "one item is dearer than the offline limit")

	// A second run reuses everything.
	logged = nil
	_, err = Prepare(dir, logf)
	require.NoError(t, err)
	assert.Contains(t, logged[0], "reusing")
}

func TestPrepareRefusesABrokenKey(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ClientKey), []byte("not a key"), 0o600))
	_, err := Prepare(dir, func(string, ...any) {})
	var de *Error
	require.True(t, errors.As(err, &de), "a file the user can delete is their problem to fix: %v", err)
	assert.Contains(t, err.Error(), "delete it")
}

func TestSimOptionsNameTheSetting(t *testing.T) {
	st := SimSettings{Timezone: "Mars/Olympus", TokenTTL: "forever"}
	_, err := st.Options()
	require.Error(t, err)
	for _, want := range []string{"app_key", "app_secret_file", "client_public_key", "timezone", "token_ttl"} {
		assert.Contains(t, err.Error(), want)
	}
	var de *Error
	assert.True(t, errors.As(err, &de))
}
