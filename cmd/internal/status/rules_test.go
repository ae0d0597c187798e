package status

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The alert rules, the Prometheus examples and the guides name only metrics
// the kiosk exports: promtool's rule tests feed
// synthetic series, so a renamed metric would pass them and never fire.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	exported := map[string]bool{}
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		newStateCollector(&Server{}).Describe(ch)
		NewMetrics().Describe(ch)
		newFontCollector(nil).Describe(ch)
		NewPINMetrics(nil, nil).Describe(ch)
		NewCardPasswordMetrics(nil).Describe(ch)
		close(ch)
	}()
	fqName := regexp.MustCompile(`fqName: "([a-z_:]+)"`)
	for d := range ch {
		m := fqName.FindStringSubmatch(d.String())
		require.NotNil(t, m, d.String())
		exported[m[1]] = true
		// Counters and histograms are scraped with their suffixes too.
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			exported[m[1]+suffix] = true
		}
	}

	used := regexp.MustCompile(`\bkiosk_[a-z_]+`)
	for _, file := range []string{"configs/prometheus/kiosk-alerts.yml", "configs/prometheus/scrape.yml",
		"configs/prometheus/agent.yml", "docs/OPERATOR.md", "README.md"} {
		data, err := os.ReadFile("../../../" + file)
		require.NoError(t, err)
		names := slices.Compact(slices.Sorted(slices.Values(used.FindAllString(string(data), -1))))
		if file == "configs/prometheus/kiosk-alerts.yml" {
			require.NotEmpty(t, names, "the alerts are on the kiosk's metrics")
		}
		for _, name := range names {
			assert.True(t, exported[name], "%s names %s, which the kiosk does not export", file, name)
		}
	}
}
