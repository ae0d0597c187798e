package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent/money"
)

func TestPaymentAccepted(t *testing.T) {
	defaults := func(want string) func(t *testing.T, cfg *Config) {
		return func(t *testing.T, cfg *Config) {
			assert.Equal(t, Payment{Password: want, PasswordAbove: DefaultPasswordAbove, PasswordMaxTries: 3,
				PasswordLock: 15 * time.Minute}, cfg.Payment)
		}
	}
	runAccepted(t, []accepted{
		{"canteen: never", func(s map[string]map[string]any) { s["terminal"]["mode"] = ModeCanteen }, defaults(PasswordNever)},
		{"kiosk: above 20.00", func(s map[string]map[string]any) { s["terminal"]["mode"] = ModeKiosk }, defaults(PasswordAbove)},
		{"kiosk terminal, canteen screens", func(s map[string]map[string]any) {
			s["terminal"]["mode"] = ModeKiosk
			s["ui"] = map[string]any{"mode": ModeCanteen}
		}, defaults(PasswordNever)},
		{"canteen terminal, kiosk screens", func(s map[string]map[string]any) {
			s["terminal"]["mode"] = ModeCanteen
			s["ui"] = map[string]any{"mode": ModeKiosk}
		}, defaults(PasswordAbove)},
		{"every key", func(s map[string]map[string]any) {
			s["payment"] = map[string]any{"password": "always", "password_above": "5.50", "password_max_tries": 5,
				"password_lock": "1h", "password_retcodes": []any{"60011", 60012}}
		}, func(t *testing.T, cfg *Config) {
			assert.Equal(t, Payment{Password: PasswordAlways, PasswordAbove: money.Fen(5_50), PasswordMaxTries: 5,
				PasswordLock: time.Hour, PasswordRetcodes: []string{"60011", "60012"}}, cfg.Payment)
		}},
		{"above 0.00", func(s map[string]map[string]any) {
			s["payment"] = map[string]any{"password": "above", "password_above": "0.00"}
		}, func(t *testing.T, cfg *Config) { assert.Zero(t, cfg.Payment.PasswordAbove) }},
	})
}

func TestPaymentRejected(t *testing.T) {
	set := func(key string, v any) func(s map[string]map[string]any) {
		return func(s map[string]map[string]any) { s["payment"] = map[string]any{key: v} }
	}
	runRejected(t, []rejected{
		{name: "mode", edit: set("password", "sometimes"), field: "payment.password"},
		{name: "above", edit: set("password_above", "twenty"), field: "payment.password_above"},
		{name: "above negative", edit: set("password_above", "-1.00"), field: "payment.password_above"},
		{name: "tries 0", edit: set("password_max_tries", 0), field: "payment.password_max_tries"},
		{name: "tries word", edit: set("password_max_tries", "x"), field: "payment.password_max_tries"},
		{name: "retcode", edit: set("password_retcodes", []any{"06003"}), field: "payment.password_retcodes"},
		{name: "lock", edit: set("password_lock", "-1m"), field: "payment.password_lock"},
	})
}
