package clocale

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A C locale reads as English for Fyne; any other locale, or a LANGUAGE
// someone set, is left alone.
func TestSetCLocaleLanguage(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want string // LANGUAGE after; "" when not set
	}{
		{"LANG=C", map[string]string{"LANG": "C"}, "en"},
		{"LANG=C.UTF-8", map[string]string{"LANG": "C.UTF-8"}, "en"},
		{"LC_ALL=POSIX", map[string]string{"LC_ALL": "POSIX", "LANG": "zh_CN.UTF-8"}, "en"},
		{"no locale at all", map[string]string{}, ""},
		{"a real locale", map[string]string{"LANG": "zh_CN.UTF-8"}, ""},
		{"LC_ALL wins over LANG", map[string]string{"LC_ALL": "zh_CN.UTF-8", "LANG": "C"}, ""},
		{"LANGUAGE already set", map[string]string{"LANG": "C.UTF-8", "LANGUAGE": "zh_CN"}, "zh_CN"},
	} {
		env := c.env
		set := func(k, v string) error { env[k] = v; return nil }
		assert.NoError(t, setCLocaleLanguage(func(k string) string { return env[k] }, set), c.name)
		assert.Equal(t, c.want, env["LANGUAGE"], c.name)
	}
}
