package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/campuspos/kiosk/cmd/internal/demo"
	"github.com/campuspos/kiosk/ui"
)

// statePoll is how often the state file is brought up to date: quick
// enough for a watcher, cheap enough to run on a kiosk all day.
const statePoll = 200 * time.Millisecond

// stateFile is what KIOSK_STATE_FILE holds: the screens' state with names
// of its own, so that the file's format does not change when ui.State's
// fields are renamed.
type stateFile struct {
	Mode       string `json:"mode"`
	Screen     string `json:"screen"`
	Online     bool   `json:"online"`
	Unfinished int    `json:"unfinished"`
	LastResult string `json:"last_result"`
	// Status is the status endpoint's address as bound, "" when off.
	Status string `json:"status,omitempty"`
}

// exposeState keeps path holding k's state until ctx ends, replacing the
// file whenever the state changes, atomically, so that a reader never sees
// half of it. It polls: State is safe from any goroutine, and a poll
// needs no hook in the screens.
func exposeState(ctx context.Context, path string, k *ui.Kiosk, statusAddr string, log *slog.Logger) {
	t := time.NewTicker(statePoll)
	defer t.Stop()
	var last []byte
	for {
		st := k.State()
		b, err := json.Marshal(stateFile{Mode: string(st.Mode), Screen: st.Screen, Online: st.Online,
			Unfinished: st.Unfinished, LastResult: st.LastResult, Status: statusAddr})
		if err == nil && !bytes.Equal(b, last) {
			if err := demo.WriteReplace(path, append(b, '\n')); err != nil {
				log.Warn("KIOSK_STATE_FILE", "err", err)
			} else {
				last = b
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
