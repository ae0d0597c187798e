package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSettlementDefaults(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)

	assert.Equal(t, Settlement{
		Enabled:     true,
		At:          2*time.Hour + 30*time.Minute,
		Jitter:      30 * time.Minute,
		Encrypted:   true,
		CatchUpDays: 7,
		Retry:       time.Minute,
		MaxRetry:    time.Hour,
	}, cfg.Settlement)
	assert.Equal(t, "02:30", cfg.Settlement.AtClock())
}

func TestParseSettlementAccepted(t *testing.T) {
	runAccepted(t, []accepted{
		{
			name: "every key set",
			edit: edits(put("settlement", "enabled", false), put("settlement", "at", "04:15"),
				put("settlement", "jitter", "2h"), put("settlement", "crypt", 0),
				put("settlement", "catch_up_days", 14), put("settlement", "retry", "30s"),
				put("settlement", "max_retry", "2h")),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, Settlement{At: 4*time.Hour + 15*time.Minute, Jitter: 2 * time.Hour,
					CatchUpDays: 14, Retry: 30 * time.Second, MaxRetry: 2 * time.Hour}, cfg.Settlement)
			},
		},
		{
			name:  "enabled as a quoted string",
			edit:  put("settlement", "enabled", "TRUE"),
			check: func(t *testing.T, cfg *Config) { assert.True(t, cfg.Settlement.Enabled) },
		},
		{
			name: "at midnight",
			edit: put("settlement", "at", "00:00"),
			check: func(t *testing.T, cfg *Config) {
				assert.Zero(t, cfg.Settlement.At)
				assert.Equal(t, "00:00", cfg.Settlement.AtClock())
			},
		},
		{
			name: "at the last minute of the day",
			edit: put("settlement", "at", "23:59"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, 23*time.Hour+59*time.Minute, cfg.Settlement.At)
				assert.Equal(t, "23:59", cfg.Settlement.AtClock())
			},
		},
		{
			name:  "at with a one-digit hour",
			edit:  put("settlement", "at", "3:05"),
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, 3*time.Hour+5*time.Minute, cfg.Settlement.At) },
		},
		{
			name:  "jitter 0 turns the spread off",
			edit:  put("settlement", "jitter", "0"),
			check: func(t *testing.T, cfg *Config) { assert.Zero(t, cfg.Settlement.Jitter) },
		},
		{
			name:  "jitter at its limit",
			edit:  put("settlement", "jitter", "720m"),
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, 12*time.Hour, cfg.Settlement.Jitter) },
		},
		{
			name:  "crypt 1 as a string",
			edit:  put("settlement", "crypt", "1"),
			check: func(t *testing.T, cfg *Config) { assert.True(t, cfg.Settlement.Encrypted) },
		},
		{
			name:  "catch_up_days lowest",
			edit:  put("settlement", "catch_up_days", 1),
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, 1, cfg.Settlement.CatchUpDays) },
		},
		{
			name:  "catch_up_days highest",
			edit:  put("settlement", "catch_up_days", "31"),
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, 31, cfg.Settlement.CatchUpDays) },
		},
		{
			name: "retry equal to max_retry",
			edit: edits(put("settlement", "retry", "5m"), put("settlement", "max_retry", "300s")),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, 5*time.Minute, cfg.Settlement.Retry)
				assert.Equal(t, 5*time.Minute, cfg.Settlement.MaxRetry)
			},
		},
		{
			name:  "empty section takes the defaults",
			edit:  func(s map[string]map[string]any) { s["settlement"] = nil },
			check: func(t *testing.T, cfg *Config) { assert.True(t, cfg.Settlement.Enabled) },
		},
	})
}

func TestParseSettlementRejected(t *testing.T) {
	runRejected(t, []rejected{
		{name: "enabled yes", edit: put("settlement", "enabled", "yes"), field: "settlement.enabled", want: "neither true nor false"},
		{name: "enabled 1", edit: put("settlement", "enabled", 1), field: "settlement.enabled", want: "neither true nor false"},

		{name: "at 24:00", edit: put("settlement", "at", "24:00"), field: "settlement.at", want: `"24:00" is not a time of day HH:MM from 00:00 to 23:59`},
		{name: "at 23:60", edit: put("settlement", "at", "23:60"), field: "settlement.at", want: "not a time of day"},
		{name: "at with seconds", edit: put("settlement", "at", "02:30:00"), field: "settlement.at", want: "not a time of day"},
		{name: "at as a duration", edit: put("settlement", "at", "2h30m"), field: "settlement.at", want: "not a time of day"},
		{name: "at with am/pm", edit: put("settlement", "at", "2:30am"), field: "settlement.at", want: "not a time of day"},
		{name: "at one-digit minutes", edit: put("settlement", "at", "02:3"), field: "settlement.at", want: "not a time of day"},
		{name: "at negative", edit: put("settlement", "at", "-01:00"), field: "settlement.at", want: "not a time of day"},
		{name: "at a number", edit: put("settlement", "at", 230), field: "settlement.at", want: "not a time of day"},

		{name: "jitter negative", edit: put("settlement", "jitter", "-1m"), field: "settlement.jitter", want: "out of range, want 0 to 12h0m0s"},
		{name: "jitter over 12h", edit: put("settlement", "jitter", "12h1s"), field: "settlement.jitter", want: "out of range"},
		{name: "jitter without unit", edit: put("settlement", "jitter", 30), field: "settlement.jitter", want: "not a duration"},

		{name: "crypt 2", edit: put("settlement", "crypt", 2), field: "settlement.crypt", want: `"2" is not 0 (plain bill) or 1 (encrypted bill)`},
		{name: "crypt true", edit: put("settlement", "crypt", true), field: "settlement.crypt", want: "not 0"},
		{name: "crypt 01", edit: put("settlement", "crypt", "01"), field: "settlement.crypt", want: "not 0"},

		{name: "catch_up_days zero", edit: put("settlement", "catch_up_days", 0), field: "settlement.catch_up_days", want: "out of range, want 1 to 31"},
		{name: "catch_up_days negative", edit: put("settlement", "catch_up_days", -7), field: "settlement.catch_up_days", want: "out of range"},
		{name: "catch_up_days 32", edit: put("settlement", "catch_up_days", 32), field: "settlement.catch_up_days", want: "out of range"},
		{name: "catch_up_days fraction", edit: put("settlement", "catch_up_days", 1.5), field: "settlement.catch_up_days", want: "not a whole number"},

		{name: "retry zero", edit: put("settlement", "retry", "0s"), field: "settlement.retry", want: "more than 0"},
		{name: "retry negative", edit: put("settlement", "retry", "-1m"), field: "settlement.retry", want: "more than 0"},
		{name: "retry banana", edit: put("settlement", "retry", "banana"), field: "settlement.retry", want: "not a duration"},
		{name: "max_retry zero", edit: put("settlement", "max_retry", "0"), field: "settlement.max_retry", want: "more than 0"},
		{name: "retry over default max_retry", edit: put("settlement", "retry", "2h"), field: "settlement.retry", want: "longer than settlement.max_retry 1h0m0s"},
		{name: "max_retry under default retry", edit: put("settlement", "max_retry", "30s"), field: "settlement.max_retry", want: "settlement.retry 1m0s is longer"},
		{name: "retry over max_retry both set", edit: edits(put("settlement", "retry", "10m"), put("settlement", "max_retry", "5m")), field: "settlement.retry", want: "longer than"},

		{name: "unknown settlement key", edit: put("settlement", "catchup_days", 7), field: "settlement.catchup_days", is: ErrUnknownKey},
		{name: "crypt_type is not the key", edit: put("settlement", "crypt_type", 1), field: "settlement.crypt_type", is: ErrUnknownKey},
	})
}

func TestParseSettlementReportsEveryProblem(t *testing.T) {
	_, err := parseEdited(t, edits(put("settlement", "enabled", "off"), put("settlement", "at", "25:00"),
		put("settlement", "jitter", "-1s"), put("settlement", "crypt", 3), put("settlement", "catch_up_days", 0),
		put("settlement", "retry", "0"), put("settlement", "max_retry", "soon")))
	require.Error(t, err)
	// An invalid retry is not compared with max_retry as well.
	assert.ElementsMatch(t, []string{"settlement.enabled", "settlement.at", "settlement.jitter", "settlement.crypt",
		"settlement.catch_up_days", "settlement.retry", "settlement.max_retry"}, problemFields(err))
}

func TestParseSettlementSectionKinds(t *testing.T) {
	runWrongKinds(t, []wrongKind{
		{name: "settlement is a scalar", yaml: "settlement: nightly\n", field: "settlement"},
		{name: "at is a list", yaml: "settlement:\n  at: [2, 30]\n", field: "settlement.at"},
		{name: "retry is a mapping", yaml: "settlement:\n  retry: {minutes: 1}\n", field: "settlement.retry"},
	})
}

// TestParseSettlementPlainScalars reads the keys as an operator types them,
// unquoted: YAML must not turn 02:30 into a number, nor 0 into anything but
// 0.
func TestParseSettlementPlainScalars(t *testing.T) {
	f := newFixture(t)
	data := append(f.yaml(t), "settlement:\n  at: 02:30\n  jitter: 0\n  crypt: 0\n  catch_up_days: 07\n"...)
	cfg, err := Parse(data, f.dir)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour+30*time.Minute, cfg.Settlement.At)
	assert.Zero(t, cfg.Settlement.Jitter)
	assert.False(t, cfg.Settlement.Encrypted)
	assert.Equal(t, 7, cfg.Settlement.CatchUpDays)
}
