package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogRingKeepsTheLastLines(t *testing.T) {
	r := newLogRing(3)
	assert.Empty(t, r.Lines())
	for i := range 5 {
		_, err := fmt.Fprintf(r, "line %d\n", i)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"line 2", "line 3", "line 4"}, r.Lines())

	_, _ = io.WriteString(r, "half")
	assert.Equal(t, []string{"line 2", "line 3", "line 4"}, r.Lines(), "an unended line waits")
	_, _ = io.WriteString(r, " and half\nnext\n")
	assert.Equal(t, []string{"line 4", "half and half", "next"}, r.Lines())
}

func TestLogRingHoldsTheLogsText(t *testing.T) {
	var stderr bytes.Buffer
	ring := newLogRing(logRingSize)
	log := slog.New(slog.NewTextHandler(io.MultiWriter(&stderr, ring), nil))
	log.Info("kiosk started", "termid", "17")
	lines := ring.Lines()
	require.Len(t, lines, 1)
	assert.Equal(t, stderr.String(), lines[0]+"\n", "the same text as the log")
	assert.Contains(t, lines[0], `msg="kiosk started" termid=17`)
}
