package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogAndStatusDefaults(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)
	assert.Equal(t, Log{Format: LogText, Level: "info"}, cfg.Log)
	assert.Equal(t, Status{}, cfg.Status, "the endpoint is off unless configured")
}

func TestLogAndStatusAccepted(t *testing.T) {
	token := strings.Repeat("t0k", 8)
	tests := []struct {
		name, yaml string
		log        Log
		status     Status
	}{
		{"json debug", "log: {format: JSON, level: debug}\n", Log{LogJSON, "debug"}, Status{}},
		{"loopback", "status: {listen: \"127.0.0.1:9108\"}\n", Log{LogText, "info"}, Status{Listen: "127.0.0.1:9108"}},
		{"localhost with token", "status: {listen: \"localhost:9108\", token: " + token + "}\n", Log{LogText, "info"},
			Status{Listen: "localhost:9108", Token: token}},
		{"ipv6 loopback", "status: {listen: \"[::1]:0\"}\n", Log{LogText, "info"}, Status{Listen: "[::1]:0"}},
		{"remote with token", "status: {listen: \":9108\", allow_remote: true, token: " + token + "}\n", Log{LogText, "info"},
			Status{Listen: ":9108", Token: token, Public: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cfg, err := Parse(append(f.yaml(t), tt.yaml...), f.dir)
			require.NoError(t, err)
			assert.Equal(t, tt.log, cfg.Log)
			assert.Equal(t, tt.status, cfg.Status)
		})
	}
}

func TestStatusTokenFile(t *testing.T) {
	f := newFixture(t)
	token := strings.Repeat("s", 32)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "status.token"), []byte(token+"\n"), 0o600))
	cfg, err := Parse(append(f.yaml(t), "status: {listen: \"127.0.0.1:9108\", token_file: status.token}\n"...), f.dir)
	require.NoError(t, err)
	assert.Equal(t, token, cfg.Status.Token, "read from the file, trailing newline trimmed")
}

func TestLogAndStatusRejected(t *testing.T) {
	token := strings.Repeat("x", 16)
	tests := []struct {
		name, yaml, field, want string
	}{
		{"unknown format", "log: {format: xml}\n", "log.format", "xml"},
		{"unknown level", "log: {level: loud}\n", "log.level", "loud"},
		{"listen without port", "status: {listen: \"127.0.0.1\"}\n", "status.listen", "host:port"},
		{"listen empty port", "status: {listen: \"127.0.0.1:\"}\n", "status.listen", "no port"},
		{"all interfaces without allow_remote", "status: {listen: \":9108\"}\n", "status.listen", "allow_remote"},
		{"lan address without allow_remote", "status: {listen: \"10.1.2.3:9108\"}\n", "status.listen", "loopback"},
		{"remote without token", "status: {listen: \":9108\", allow_remote: true}\n", "status.token", "required"},
		{"allow_remote not a bool", "status: {allow_remote: maybe}\n", "status.allow_remote", "maybe"},
		{"token too short", "status: {token: short}\n", "status.token", "at least 16"},
		{"token with a space", "status: {token: \"" + token + " x\"}\n", "status.token", "space"},
		{"token and token_file", "status: {token: " + token + ", token_file: t}\n", "status.token_file", "not both"},
		{"token_file missing", "status: {token_file: nope}\n", "status.token_file", "nope"},
		{"unknown key", "status: {port: 9108}\n", "status.port", "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := Parse(append(f.yaml(t), tt.yaml...), f.dir)
			requireOneProblem(t, err, tt.field, tt.want)
		})
	}
}
