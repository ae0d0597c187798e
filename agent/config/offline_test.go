package config

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// put builds an edit that sets a key, creating its section: the fixture has
// no offline or reconcile section.
func put(section, key string, v any) func(map[string]map[string]any) {
	return func(s map[string]map[string]any) {
		if s[section] == nil {
			s[section] = map[string]any{}
		}
		s[section][key] = v
	}
}

// edits combines several edits into one.
func edits(fs ...func(map[string]map[string]any)) func(map[string]map[string]any) {
	return func(s map[string]map[string]any) {
		for _, f := range fs {
			f(s)
		}
	}
}

func TestParseOfflineReconcileDefaults(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)

	assert.Equal(t, ModeCanteen, cfg.Terminal.Mode)
	assert.Equal(t, Offline{
		Enabled:       true,
		MaxAmount:     30_00,
		MaxTotal:      500_00,
		MaxCount:      50,
		MaxPerCardDay: 60_00,
		CardMaxAge:    72 * time.Hour,
	}, cfg.Offline)
	assert.Equal(t, Reconcile{
		Interval:    10 * time.Second,
		MaxInterval: 10 * time.Minute,
		GiveUpAfter: 72 * time.Hour,
		Orphans:     OrphansRefund,
	}, cfg.Reconcile)
}

func TestParseOfflineReconcileAccepted(t *testing.T) {
	runAccepted(t, []accepted{
		{
			name: "kiosk mode turns offline off by default",
			edit: set("terminal", "mode", "kiosk"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, ModeKiosk, cfg.Terminal.Mode)
				assert.False(t, cfg.Offline.Enabled)
			},
		},
		{
			name:  "kiosk mode may turn offline on",
			edit:  edits(set("terminal", "mode", "kiosk"), put("offline", "enabled", true)),
			check: func(t *testing.T, cfg *Config) { assert.True(t, cfg.Offline.Enabled) },
		},
		{
			name: "canteen mode explicit",
			edit: set("terminal", "mode", "canteen"),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, ModeCanteen, cfg.Terminal.Mode)
				assert.True(t, cfg.Offline.Enabled)
			},
		},
		{
			name:  "canteen mode may turn offline off",
			edit:  edits(set("terminal", "mode", "canteen"), put("offline", "enabled", false)),
			check: func(t *testing.T, cfg *Config) { assert.False(t, cfg.Offline.Enabled) },
		},
		{
			name:  "enabled as a quoted string",
			edit:  put("offline", "enabled", "False"),
			check: func(t *testing.T, cfg *Config) { assert.False(t, cfg.Offline.Enabled) },
		},
		{
			name: "amounts as strings and YAML numbers",
			edit: edits(put("offline", "max_amount", "12.5"), put("offline", "max_total", 100),
				put("offline", "max_per_card_day", 20.05)),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, money.Fen(12_50), cfg.Offline.MaxAmount)
				assert.Equal(t, money.Fen(100_00), cfg.Offline.MaxTotal)
				assert.Equal(t, money.Fen(20_05), cfg.Offline.MaxPerCardDay)
			},
		},
		{
			name:  "smallest amount",
			edit:  put("offline", "max_amount", "0.01"),
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, money.Fen(1), cfg.Offline.MaxAmount) },
		},
		{
			name: "max_amount equal to max_total",
			edit: edits(put("offline", "max_amount", "40.00"), put("offline", "max_total", "40")),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, cfg.Offline.MaxTotal, cfg.Offline.MaxAmount)
			},
		},
		{
			name:  "max_count 1",
			edit:  put("offline", "max_count", 1),
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, 1, cfg.Offline.MaxCount) },
		},
		{
			name:  "card_max_age",
			edit:  put("offline", "card_max_age", "30m"),
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, 30*time.Minute, cfg.Offline.CardMaxAge) },
		},
		{
			name: "reconcile set",
			edit: edits(put("reconcile", "interval", "5s"), put("reconcile", "max_interval", "1h"),
				put("reconcile", "give_up_after", "168h"), put("reconcile", "orphans", "review")),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, Reconcile{Interval: 5 * time.Second, MaxInterval: time.Hour,
					GiveUpAfter: 168 * time.Hour, Orphans: OrphansReview}, cfg.Reconcile)
			},
		},
		{
			name: "interval equal to max_interval equal to give_up_after",
			edit: edits(put("reconcile", "interval", "1h"), put("reconcile", "max_interval", "60m"),
				put("reconcile", "give_up_after", "3600s")),
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, time.Hour, cfg.Reconcile.Interval)
				assert.Equal(t, time.Hour, cfg.Reconcile.GiveUpAfter)
			},
		},
		{
			name:  "empty sections take the defaults",
			edit:  func(s map[string]map[string]any) { s["offline"] = nil; s["reconcile"] = map[string]any{} },
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, DefaultOfflineMaxCount, cfg.Offline.MaxCount) },
		},
	})
}

func TestParseOfflineReconcileRejected(t *testing.T) {
	runRejected(t, []rejected{
		{name: "mode unknown", edit: set("terminal", "mode", "self"), field: "terminal.mode", want: `"self" is not one of canteen, kiosk`},
		{name: "mode in capitals", edit: set("terminal", "mode", "Kiosk"), field: "terminal.mode", want: "not one of"},

		{name: "enabled yes", edit: put("offline", "enabled", "yes"), field: "offline.enabled", want: "neither true nor false"},
		{name: "enabled 1", edit: put("offline", "enabled", 1), field: "offline.enabled", want: "neither true nor false"},

		{name: "max_amount three decimals", edit: put("offline", "max_amount", "0.001"), field: "offline.max_amount", is: money.ErrSyntax, want: "two decimal"},
		{name: "max_amount negative", edit: put("offline", "max_amount", "-1"), field: "offline.max_amount", is: money.ErrSyntax},
		{name: "max_amount negative number", edit: put("offline", "max_amount", -1), field: "offline.max_amount", is: money.ErrSyntax},
		{name: "max_amount zero", edit: put("offline", "max_amount", "0.00"), field: "offline.max_amount", want: "at least 0.01"},
		{name: "max_amount words", edit: put("offline", "max_amount", "thirty"), field: "offline.max_amount", is: money.ErrSyntax},
		{name: "max_amount with currency", edit: put("offline", "max_amount", "¥30"), field: "offline.max_amount", is: money.ErrSyntax},
		{name: "max_total three decimals", edit: put("offline", "max_total", "500.001"), field: "offline.max_total", is: money.ErrSyntax},
		{name: "max_total zero", edit: put("offline", "max_total", 0), field: "offline.max_total", want: "at least 0.01"},
		{name: "max_per_card_day negative", edit: put("offline", "max_per_card_day", "-60"), field: "offline.max_per_card_day", is: money.ErrSyntax},
		{name: "max_per_card_day zero", edit: put("offline", "max_per_card_day", "0"), field: "offline.max_per_card_day", want: "at least 0.01"},

		{name: "max_amount over default max_total", edit: put("offline", "max_amount", "500.01"), field: "offline.max_amount", want: "more than offline.max_total 500.00"},
		{name: "max_total under default max_amount", edit: put("offline", "max_total", "29.99"), field: "offline.max_total", want: "offline.max_amount 30.00 is more than offline.max_total 29.99"},
		{name: "max_amount over max_total both set", edit: edits(put("offline", "max_amount", "50"), put("offline", "max_total", "40")), field: "offline.max_amount", want: "more than"},

		{name: "max_count zero", edit: put("offline", "max_count", 0), field: "offline.max_count", want: "at least 1"},
		{name: "max_count negative", edit: put("offline", "max_count", -3), field: "offline.max_count", want: "at least 1"},
		{name: "max_count fraction", edit: put("offline", "max_count", 2.5), field: "offline.max_count", want: "not a whole number"},
		{name: "max_count huge", edit: put("offline", "max_count", "99999999999999999999999"), field: "offline.max_count", want: "not a whole number"},

		{name: "card_max_age without unit", edit: put("offline", "card_max_age", 72), field: "offline.card_max_age", want: "not a duration"},
		{name: "card_max_age days", edit: put("offline", "card_max_age", "3d"), field: "offline.card_max_age", want: "not a duration"},
		{name: "card_max_age zero", edit: put("offline", "card_max_age", "0s"), field: "offline.card_max_age", want: "more than 0"},

		{name: "interval negative", edit: put("reconcile", "interval", "-10s"), field: "reconcile.interval", want: "more than 0"},
		{name: "interval banana", edit: put("reconcile", "interval", "banana"), field: "reconcile.interval", want: "not a duration"},
		{name: "max_interval zero", edit: put("reconcile", "max_interval", "0"), field: "reconcile.max_interval", want: "more than 0"},
		{name: "give_up_after zero", edit: put("reconcile", "give_up_after", "0s"), field: "reconcile.give_up_after", want: "more than 0"},

		{name: "interval over default max_interval", edit: put("reconcile", "interval", "11m"), field: "reconcile.interval", want: "longer than reconcile.max_interval 10m0s"},
		{name: "max_interval under default interval", edit: put("reconcile", "max_interval", "5s"), field: "reconcile.max_interval", want: "reconcile.interval 10s is longer"},
		{name: "interval over max_interval both set", edit: edits(put("reconcile", "interval", "2m"), put("reconcile", "max_interval", "1m")), field: "reconcile.interval", want: "longer than"},
		{name: "give_up_after under default max_interval", edit: put("reconcile", "give_up_after", "5m"), field: "reconcile.give_up_after", want: "shorter than reconcile.max_interval 10m0s"},
		{name: "max_interval over default give_up_after", edit: put("reconcile", "max_interval", "73h"), field: "reconcile.max_interval", want: "reconcile.give_up_after 72h0m0s is shorter"},

		{name: "orphans unknown", edit: put("reconcile", "orphans", "keep"), field: "reconcile.orphans", want: `"keep" is not one of refund, review`},

		{name: "unknown offline key", edit: put("offline", "max_amt", "1"), field: "offline.max_amt", is: ErrUnknownKey},
		{name: "unknown reconcile key", edit: put("reconcile", "orphan", "refund"), field: "reconcile.orphan", is: ErrUnknownKey},
	})
}

func TestParseOfflineReconcileSectionKinds(t *testing.T) {
	runWrongKinds(t, []wrongKind{
		{name: "offline is a list", yaml: "offline:\n  - enabled\n", field: "offline"},
		{name: "reconcile is a scalar", yaml: "reconcile: fast\n", field: "reconcile"},
		{name: "max_amount is a mapping", yaml: "offline:\n  max_amount: {yuan: 30}\n", field: "offline.max_amount"},
	})
}

func TestParseOfflineReconcileReportsEveryProblem(t *testing.T) {
	_, err := parseEdited(t, edits(put("offline", "max_amount", "0.001"), put("offline", "max_count", 0),
		put("reconcile", "orphans", "keep"), put("reconcile", "interval", "20m"), set("terminal", "mode", "self")))
	require.Error(t, err)
	// An invalid max_amount is not compared with max_total as well: one
	// mistake, one message.
	assert.ElementsMatch(t, []string{"offline.max_amount", "offline.max_count", "reconcile.orphans",
		"reconcile.interval", "terminal.mode"}, problemFields(err))
	var first *Error
	assert.True(t, errors.As(err, &first))
}

// TestExampleConfigShowsTheDefaults keeps the values written in
// configs/kiosk.example.yaml equal to the defaults its comments promise.
func TestExampleConfigShowsTheDefaults(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	var settings map[string]map[string]any
	require.NoError(t, yaml.Unmarshal(data, &settings))

	// Point the example at the fixture's key files so that it loads here.
	f := newFixture(t)
	settings["platform"]["private_key"] = "client.pem"
	settings["platform"]["public_key"] = "platform.pem"
	f.settings = settings
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)

	defaults, err := Parse(newFixture(t).yaml(t), f.dir)
	require.NoError(t, err)
	assert.Equal(t, defaults.Terminal.Mode, cfg.Terminal.Mode)
	assert.Equal(t, defaults.Offline, cfg.Offline)
	assert.Equal(t, defaults.Reconcile, cfg.Reconcile)
	assert.Equal(t, defaults.Settlement, cfg.Settlement)
	// The menu is an example, not a default; the rest are.
	assert.Equal(t, defaults.UI.Mode, cfg.UI.Mode)
	assert.Equal(t, defaults.UI.Language, cfg.UI.Language)
	assert.Equal(t, defaults.UI.IdleTimeout, cfg.UI.IdleTimeout)
	assert.NotEmpty(t, cfg.UI.Menu)
}
