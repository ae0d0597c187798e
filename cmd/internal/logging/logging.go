// Package logging builds the terminal's structured log (log/slog) from the
// configuration's log section, and the hooks that put every order's life
// and every platform call into it.
//
// What the log promises, whoever writes to it through New or Mask: no card
// number, account or holder's name in the clear, and no secret (token, app
// secret, key, password, PIN). The promise is kept by the handler rather
// than by each caller because a log line is written in many places and a
// leak needs only one of them to forget. It is kept by attribute key (and
// group name), not by value: an order number and a card number are both
// strings of digits, and only the key tells them apart. Free text — the
// message and error strings — is not searched; callers keep card data out
// of it.
//
// The order hook gives every record about an order the attribute
// "order_no", so that filtering the log by it (jq 'select(.order_no==…)')
// shows the order's whole life.
package logging

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"

	"github.com/campuspos/kiosk/agent/config"
)

// New returns a logger that writes to w in cfg's format (config.LogText or
// config.LogJSON) from cfg's level up, through Mask. An empty format or
// level takes the configuration's default, so that a zero config.Log gives
// a usable logger before the configuration is read.
func New(w io.Writer, cfg config.Log) (*slog.Logger, error) {
	format, lv := cmp.Or(cfg.Format, config.DefaultLogFormat), cmp.Or(cfg.Level, config.DefaultLogLevel)
	var level slog.Level
	if err := level.UnmarshalText([]byte(lv)); err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch format {
	case config.LogText:
		h = slog.NewTextHandler(w, opts)
	case config.LogJSON:
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log.format: %q is not one of %s, %s", cfg.Format, config.LogText, config.LogJSON)
	}
	return slog.New(Mask(h)), nil
}
