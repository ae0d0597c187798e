package device

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyboardInput(t *testing.T) {
	w := watch(t, []Spec{mustSpec(t, "window", "keyboard:?tab=1&match=[0-9]{4,}")}, Options{})
	w.event(t, EventConnected)
	k := w.m.Keyboard("window")
	require.NotNil(t, k)
	assert.Nil(t, w.m.Keyboard("nope"))
	for _, r := range "12345" {
		k.Type(r)
	}
	k.Key(KeyEnter)
	s := w.scan(t)
	assert.Equal(t, Scan{Device: "window", Kind: KindBarcode, Text: "12345", Time: s.Time}, s)
	for _, r := range "9876" {
		k.Type(r)
	}
	k.Key(KeyTab)
	assert.Equal(t, "9876", w.scan(t).Text, "tab=1: Tab ends a scan")
	k.Type('x')
	k.Key(KeyEnter)
	assert.Equal(t, `"x" does not match ^(?:[0-9]{4,})$`, w.drop(t).Reason)
}

func TestKeyboardOverflowDropsTheWholeFrame(t *testing.T) {
	k := newKeyboardInput(false, func() time.Time { return t0 }, 2)
	for _, r := range "12345" {
		k.Type(r)
	}
	k.Key(KeyEnter) // buffer still full: the frame stays damaged
	assert.Equal(t, []byte("1"), (<-k.events).data)
	assert.Equal(t, []byte("2"), (<-k.events).data)
	k.Type('6')
	k.Key(KeyEnter)
	ch := <-k.events
	assert.Equal(t, "keyboard buffer full", ch.reset)
	assert.Equal(t, 6, ch.lost, "345, Enter, 6, Enter")
	k.Type('7')
	assert.Equal(t, []byte("7"), (<-k.events).data, "the next frame is whole again")
}
