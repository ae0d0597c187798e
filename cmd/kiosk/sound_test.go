package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/ui"
)

func TestWAVIsWellFormed(t *testing.T) {
	for _, r := range []string{ui.ResultPaid, ui.ResultDeclined, ui.ResultOffline} {
		b := wav(resultTones(r))
		require.Greater(t, len(b), 44, r)
		assert.Equal(t, "RIFF", string(b[:4]))
		assert.Equal(t, uint32(len(b)-8), binary.LittleEndian.Uint32(b[4:8]), "RIFF size")
		assert.Equal(t, "WAVEfmt ", string(b[8:16]))
		assert.Equal(t, uint32(soundRate), binary.LittleEndian.Uint32(b[24:28]))
		assert.Equal(t, "data", string(b[36:40]))
		assert.Equal(t, uint32(len(b)-44), binary.LittleEndian.Uint32(b[40:44]), "data size")
	}
	assert.NotEqual(t, wav(resultTones(ui.ResultPaid)), wav(resultTones(ui.ResultDeclined)), "paid and refused sound different")
}

// The command gets the tone on its standard input; a failing command is
// logged and payments go on.
func TestSounderRunsTheCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "played.wav")
	var log bytes.Buffer
	s := newSounder(context.Background(), []string{"sh", "-c", "cat > " + out}, slog.New(slog.NewTextHandler(&log, nil)))
	s.play(ui.ResultPaid)
	s.Wait()
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, wav(resultTones(ui.ResultPaid)), got)

	bad := newSounder(context.Background(), []string{"sh", "-c", "echo no device >&2; exit 1"}, slog.New(slog.NewTextHandler(&log, nil)))
	bad.play(ui.ResultDeclined)
	bad.Wait()
	assert.Contains(t, log.String(), "ui.sound_command failed")
	assert.Contains(t, log.String(), "no device")
}

// A result while the last sound still plays is skipped, not queued.
func TestSounderSkipsWhileBusy(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "gate")
	// The first play blocks reading the gate until the test writes it.
	s := newSounder(context.Background(), []string{"sh", "-c", "cat >/dev/null; read x < " + fifo + "; echo played >> " + filepath.Join(dir, "count")},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, mkfifo(fifo))
	s.play(ui.ResultPaid)
	s.play(ui.ResultPaid) // skipped: the first is still playing
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("go\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s.Wait()
	got, err := os.ReadFile(filepath.Join(dir, "count"))
	require.NoError(t, err)
	assert.Equal(t, "played\n", string(got))
}
