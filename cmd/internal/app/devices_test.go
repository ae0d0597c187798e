package app_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/device"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A recorded card reader (replayed through the same framer as the real
// device) feeds the agent scans that map to the right card queries.
func TestDevicesFeedTheAgent(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "reader.txt")
	var rec string
	for i, id := range []string{"3197650001", "2024000001"} {
		rec += fmt.Sprintf("%d %s\n", i*1000, hex.EncodeToString([]byte(id+"\r\n")))
	}
	require.NoError(t, os.WriteFile(capture, []byte("# recorded card reader\n"+rec), 0o600))
	cfg := &config.Config{
		Devices: []config.Device{{Name: "reader", Spec: "replay:" + capture + "?as=serial&frame=crlf&speed=fast&kind=card"}},
		IDRules: []config.IDRule{{Pattern: regexp.MustCompile(`^(?:20[0-9]{8})$`), IDType: "sno"}},
	}
	devs, err := app.OpenDevices(context.Background(), cfg, device.Options{}, nil)
	require.NoError(t, err)
	defer devs.Close()
	mapper := app.ScanMapper(cfg)

	var got []string
	for s := range devs.Scans(context.Background()) {
		q, err := mapper.Identify(s)
		require.NoError(t, err)
		got = append(got, q.Type+":"+q.ID)
	}
	assert.Equal(t, []string{"cardid:3197650001", "sno:2024000001"}, got)
	require.Len(t, devs.Status(), 1)
	assert.Equal(t, 2, devs.Status()[0].Scans)
}

func TestDeviceSpecErrorsNameTheEntry(t *testing.T) {
	cfg := &config.Config{Devices: []config.Device{{Name: "ok", Spec: "keyboard:"}, {Name: "bad", Spec: "serial:/dev/ttyS0?baud=fast"}}}
	_, err := app.DeviceSpecs(cfg)
	var ce *config.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "devices[1].spec", ce.Field)
}
