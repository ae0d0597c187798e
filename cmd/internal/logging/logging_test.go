package logging_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/cmd/internal/logging"
)

// records decodes a JSON log, one object a line.
func records(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), "line %q", sc.Text())
		recs = append(recs, r)
	}
	require.NoError(t, sc.Err())
	return recs
}

func TestNewJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(&buf, config.Log{Format: config.LogJSON, Level: "info"})
	require.NoError(t, err)
	log.Info("kiosk started", "termid", "17", "account", "100001")
	log.With("order_no", "2026112712000017000001").WithGroup("card").Info("seen", "id", "3197650001")

	recs := records(t, buf.String())
	require.Len(t, recs, 2)
	assert.Equal(t, "INFO", recs[0]["level"])
	assert.Equal(t, "kiosk started", recs[0]["msg"])
	assert.Equal(t, "17", recs[0]["termid"])
	assert.Equal(t, "**0001", recs[0]["account"])
	assert.Equal(t, "2026112712000017000001", recs[1]["order_no"], "an order number is not a card number")
	assert.Equal(t, map[string]any{"id": "******0001"}, recs[1]["card"])
}

func TestNewText(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(&buf, config.Log{Format: config.LogText, Level: "info"})
	require.NoError(t, err)
	log.Info("order created", "order_no", "2026112712000017000001", "account", "100001", "name", "张三")

	line := strings.TrimSuffix(buf.String(), "\n")
	require.NotContains(t, line, "\n", "one record, one line")
	assert.True(t, strings.HasPrefix(line, "time="), line)
	for _, want := range []string{" level=INFO ", ` msg="order created" `, " order_no=2026112712000017000001 ", " account=**0001 ", " name=张*"} {
		assert.Contains(t, line, want)
	}
}

func TestNewDefaultsAndErrors(t *testing.T) {
	var buf bytes.Buffer
	log, err := logging.New(&buf, config.Log{})
	require.NoError(t, err, "a zero config.Log is the configuration's default")
	log.Debug("hidden")
	log.Info("shown")
	assert.NotContains(t, buf.String(), "hidden")
	assert.True(t, strings.HasPrefix(buf.String(), "time="), "text is the default format: %q", buf.String())

	_, err = logging.New(&buf, config.Log{Format: "xml"})
	assert.ErrorContains(t, err, "log.format")
	_, err = logging.New(&buf, config.Log{Level: "loud"})
	assert.ErrorContains(t, err, "log.level")
}

func TestLevelsFilter(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  []string
	}{
		{"debug", []string{"d", "i", "w", "e"}},
		{"info", []string{"i", "w", "e"}},
		{"warn", []string{"w", "e"}},
		{"error", []string{"e"}},
	} {
		t.Run(tc.level, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := logging.New(&buf, config.Log{Format: config.LogJSON, Level: tc.level})
			require.NoError(t, err)
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			log.Error("e")
			var got []string
			for _, r := range records(t, buf.String()) {
				got = append(got, r["msg"].(string))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
