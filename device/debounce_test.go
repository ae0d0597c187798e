package device

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDebouncer(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	d := newDebouncer(800 * time.Millisecond)
	assert.True(t, d.allow("A", ms(0)))
	assert.False(t, d.allow("A", ms(300)), "repeat within the window")
	assert.True(t, d.allow("B", ms(400)), "another text is another scan")
	assert.False(t, d.allow("A", ms(1000)), "the window slides with each repeat (300 + 800 > 1000)")
	assert.True(t, d.allow("A", ms(1800)), "800 ms after the last sighting")
	assert.True(t, d.allow("A", ms(100)), "a clock step back is not a repeat")

	off := newDebouncer(0)
	assert.True(t, off.allow("A", ms(0)))
	assert.True(t, off.allow("A", ms(0)))
}

func TestDebouncerForgets(t *testing.T) {
	d := newDebouncer(time.Second)
	for i := range 1000 {
		d.allow(fmt.Sprint(i), t0.Add(time.Duration(i)*100*time.Millisecond))
	}
	assert.LessOrEqual(t, len(d.seen), pruneAt+1, "expired texts are forgotten")
}
