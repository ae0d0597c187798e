package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent/config"
)

func TestShortPIN(t *testing.T) {
	for _, c := range []struct {
		pin   string
		short bool
	}{{"0000", true}, {"0042", true}, {"99999", true}, {"123456", false}, {"00000000", false}} {
		n, short := config.ShortPIN(config.HashPIN(c.pin))
		assert.Equal(t, c.short, short, c.pin)
		if c.short {
			assert.Equal(t, len(c.pin), n, c.pin)
		}
	}
	_, short := config.ShortPIN("")
	assert.False(t, short, "no PIN is not a short PIN")
}
