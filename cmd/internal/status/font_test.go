package status_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/cmd/internal/status"
)

func (r *rig) missingGlyphs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.glyphs
}

func (r *rig) setGlyphs(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.glyphs = s
}

// Characters the screens show with no font to draw them make the terminal
// degraded (font_missing), named with their code points, and set
// kiosk_font_missing; the terminal is ready again once a font has them.
func TestFontMissing(t *testing.T) {
	r := newRig(t, rigOptions{})
	code, _ := r.health(t)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, 0.0, r.scrape(t).value(t, "kiosk_font_missing"))

	r.setGlyphs("一三上下不与且丢两中")
	code, h := r.health(t)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, []string{status.ReasonFontMissing}, codes(h))
	assert.Equal(t, "font_missing: the screens show 10 characters no loaded font has "+
		"(一三上下不与且丢: U+4E00 U+4E09 U+4E0A U+4E0B U+4E0D U+4E0E U+4E14 U+4E22 …); install fonts-noto-cjk or set ui.font",
		h.Reasons[0])
	assert.Equal(t, 1.0, r.scrape(t).value(t, "kiosk_font_missing"))
	st := r.status(t)
	assert.Equal(t, status.StatusDegraded, st.Status)
	assert.True(t, strings.HasPrefix(st.Reasons[0], status.ReasonFontMissing+": "))

	r.setGlyphs("")
	code, _ = r.health(t)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, 0.0, r.scrape(t).value(t, "kiosk_font_missing"))
}
