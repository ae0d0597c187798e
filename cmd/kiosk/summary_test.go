package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigSummaryHoldsNoSecret(t *testing.T) {
	_, a, _ := openDemo(t, t.TempDir())
	cfg := a.Config
	o := uiOptions(cfg, true)
	assert.NotEmpty(t, o.Version)
	sum := strings.Join(o.ConfigSummary, "\n")
	assert.Contains(t, sum, "platform "+cfg.Platform.URL)
	assert.Contains(t, sum, "termid "+cfg.Terminal.TermID)
	assert.Contains(t, sum, "mode "+cfg.UI.Mode)
	assert.Contains(t, sum, "devices ")
	require.NotEmpty(t, cfg.Platform.AppKey)
	require.NotEmpty(t, cfg.Platform.Secrets.AppSecret())
	assert.NotContains(t, sum, cfg.Platform.AppKey)
	assert.NotContains(t, sum, cfg.Platform.Secrets.AppSecret())
}

func TestSafeURLDropsCredentials(t *testing.T) {
	assert.Equal(t, "https://pos.example.edu/tsm", safeURL("https://user:pw@pos.example.edu/tsm?key=s3cret#x"))
	assert.Equal(t, "(unparsable URL)", safeURL("http://[::1"))
}
