package agent

import (
	"context"
	"sync"
	"time"
)

// EventKind names what an Event reports.
type EventKind string

// Event kinds.
const (
	// EventOnline and EventOffline: the platform became reachable or
	// unreachable, as the last call found it.
	EventOnline  EventKind = "online"
	EventOffline EventKind = "offline"
	// EventSettled: the reconciler moved an order to another state.
	EventSettled EventKind = "settled"
)

// Event is something the UI may show: connectivity changes and orders the
// reconciler settled.
type Event struct {
	Kind EventKind
	At   time.Time
	// For EventSettled: the order and the change.
	OrderNo  string
	From, To OrderState
	// Detail is a short human text (the error that took the platform
	// offline, the reason for a settlement).
	Detail string
}

// hub tracks connectivity and fans events out to subscribers. A slow
// subscriber loses events rather than slowing the payment path.
type hub struct {
	mu     sync.Mutex
	online bool
	since  time.Time
	subs   map[chan Event]struct{}
}

func newHub(now time.Time) *hub {
	return &hub{online: true, since: now, subs: map[chan Event]struct{}{}}
}

// setOnline records the outcome of a platform exchange and emits an event
// on a change.
func (h *hub) setOnline(online bool, at time.Time, detail string) {
	h.mu.Lock()
	changed := h.online != online
	if changed {
		h.online, h.since = online, at
	}
	h.mu.Unlock()
	if changed {
		kind := EventOnline
		if !online {
			kind = EventOffline
		}
		h.publish(Event{Kind: kind, At: at, Detail: detail})
	}
}

func (h *hub) state() (bool, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.online, h.since
}

func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// subscribe returns a channel of events that is closed when ctx ends.
func (h *hub) subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 64)
	h.mu.Lock()
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, ch)
		close(ch)
		h.mu.Unlock()
	}()
	return ch
}
