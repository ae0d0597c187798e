package status

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// glyphsNamed is how many of the missing characters a font_missing reason
// names: enough to recognise them.
const glyphsNamed = 8

// fontReason words font_missing for the characters missing: how many, the
// first few, and their code points, which can be read where the characters
// themselves are boxes.
func fontReason(missing string) string {
	rs := []rune(missing)
	named := rs[:min(len(rs), glyphsNamed)]
	codes := make([]string, len(named), len(named)+1)
	for i, r := range named {
		codes[i] = fmt.Sprintf("U+%04X", r)
	}
	if len(rs) > len(named) {
		codes = append(codes, "…")
	}
	return fmt.Sprintf("%s: the screens show %d characters no loaded font has (%s: %s); install fonts-noto-cjk or set ui.font",
		ReasonFontMissing, len(rs), string(named), strings.Join(codes, " "))
}

// fontCollector exports kiosk_font_missing, read from the screens at
// scrape time.
type fontCollector struct {
	missing func() string
	desc    *prometheus.Desc
}

func newFontCollector(missing func() string) *fontCollector {
	return &fontCollector{missing: missing, desc: prometheus.NewDesc("kiosk_font_missing",
		"1 when the screens show characters that no loaded font has (drawn as boxes: /healthz font_missing names them), 0 otherwise.",
		nil, nil)}
}

// Describe sends the descriptor (prometheus.Collector).
func (c *fontCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends the gauge (prometheus.Collector).
func (c *fontCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, one(c.missing() != ""))
}
