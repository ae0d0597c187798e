package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/demo"
	"github.com/campuspos/kiosk/cmd/internal/syncbuf"
)

// started is a simulator run in this process.
type started struct {
	url    string
	stderr *syncbuf.Buffer
	stop   func() int
}

// start runs the command with args until stop is called; it returns once
// the server accepts connections.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncbuf.Buffer{}
	urls := make(chan string, 1)
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &syncbuf.Buffer{}, stderr, func(u string) { urls <- u }) }()
	var stopped bool
	var code int
	stop := func() int {
		if !stopped {
			cancel()
			code, stopped = <-done, true
		}
		return code
	}
	t.Cleanup(func() { stop() })
	select {
	case u := <-urls:
		return &started{url: u, stderr: stderr, stop: stop}
	case code := <-done:
		t.Fatalf("onecard-sim exited with %d before serving:\n%s", code, stderr)
	}
	return nil
}

// clientFor builds a protocol client from a kiosk configuration, as the
// kiosk does.
func clientFor(t *testing.T, cfg *config.Config) *onecard.Client {
	t.Helper()
	cipher, err := onecard.NewCipherKey(cfg.Platform.Secrets.DESKey())
	require.NoError(t, err)
	hc := onecard.NewHTTPClient(cfg.Platform.Timeout, nil)
	t.Cleanup(hc.CloseIdleConnections)
	c, err := onecard.New(onecard.Config{
		URL: cfg.Platform.URL, BillURL: cfg.Platform.BillURL, AppKey: cfg.Platform.AppKey, Cipher: cipher,
		PrivateKey: cfg.Platform.Secrets.PrivateKey(), PlatformKey: cfg.Platform.PublicKey,
		Location: cfg.Platform.Location, HTTPClient: hc,
	})
	require.NoError(t, err)
	return c
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	simulator := start(t, "--listen", "127.0.0.1:0", "--demo", dir)

	assert.Equal(t, os.FileMode(0o700), mode(t, dir))
	keys := map[string][]byte{}
	for _, name := range []string{demo.ClientKey, demo.ClientPub, demo.PlatformKey, demo.PlatformPub, demo.Secret, demo.SimYAML, demo.KioskYAML} {
		assert.Equal(t, os.FileMode(0o600), mode(t, filepath.Join(dir, name)), name)
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		keys[name] = b
	}

	// kiosk.yaml is a valid agent configuration for this very simulator.
	cfg, err := config.Load(filepath.Join(dir, demo.KioskYAML))
	require.NoError(t, err)
	assert.Empty(t, cfg.Warnings)
	assert.Equal(t, simulator.url, cfg.Platform.URL)
	assert.True(t, strings.HasSuffix(cfg.Platform.URL, "/tsm"))
	assert.Equal(t, demo.AppKey, cfg.Platform.AppKey)
	assert.Equal(t, "Asia/Shanghai", cfg.Platform.Timezone)
	assert.Equal(t, 5*time.Second, cfg.Platform.Timeout)
	assert.NotNil(t, cfg.Platform.PublicKey, "replies are verified")
	assert.Equal(t, config.Terminal{TermID: "17", MercAcc: "100000", AccType: "###", Mode: config.ModeCanteen}, cfg.Terminal)
	assert.Equal(t, filepath.Join(dir, demo.Store), cfg.Store.Path)

	c := clientFor(t, cfg)
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	cards, err := c.QueryCard(t.Context(), tok.Value, onecard.CardQuery{IDType: "cardid", ID: "3197650001"})
	require.NoError(t, err)
	require.Len(t, cards, 1)
	assert.Equal(t, "张三", cards[0].Name)
	_, _, err = c.DownloadBill(t.Context(), tok.Value, onecard.BillRequest{Date: time.Now().In(cfg.Platform.Location).Format("20060102"), Type: "ALL"})
	require.NoError(t, err, "the bill path is served too")

	log := simulator.stderr.String()
	assert.Contains(t, log, filepath.Join(dir, demo.KioskYAML))
	assert.Contains(t, log, "cardid ****0001")
	assert.Contains(t, log, "barcode ****2345")
	for _, c := range sim.DemoCards() {
		assert.NotContains(t, log, c.CardID, "full card numbers stay out of the log")
	}
	assert.NotContains(t, log, strings.TrimSpace(string(keys[demo.Secret])))
	assert.Equal(t, exitOK, simulator.stop(), "graceful shutdown")

	// A second run reuses the keys and settings and points kiosk.yaml at
	// its own address.
	again := start(t, "--listen", "127.0.0.1:0", "--demo", dir)
	for name, before := range keys {
		after, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		if name == demo.KioskYAML {
			continue
		}
		assert.Equal(t, before, after, "%s is reused", name)
	}
	cfg, err = config.Load(filepath.Join(dir, demo.KioskYAML))
	require.NoError(t, err)
	assert.Equal(t, again.url, cfg.Platform.URL)
	assert.Contains(t, again.stderr.String(), "reusing")
	_, err = clientFor(t, cfg).AccessToken(t.Context())
	require.NoError(t, err, "the old keys still work")
	assert.Equal(t, exitOK, again.stop())
}

// writeTestKeys writes the test keys where flags can name them.
func writeTestKeys(t *testing.T, dir string) (secret, clientPub, platformPriv string) {
	t.Helper()
	clientKey, platformKey, appSecret := onecardtest.TestKeys()
	pub, err := x509.MarshalPKIXPublicKey(&clientKey.PublicKey)
	require.NoError(t, err)
	priv, err := x509.MarshalPKCS8PrivateKey(platformKey)
	require.NoError(t, err)
	secret, clientPub, platformPriv = filepath.Join(dir, "secret"), filepath.Join(dir, "client.pub"), filepath.Join(dir, "platform.pem")
	require.NoError(t, os.WriteFile(secret, []byte(appSecret+"\n"), 0o600))
	require.NoError(t, os.WriteFile(clientPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600))
	require.NoError(t, os.WriteFile(platformPriv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}), 0o600))
	return secret, clientPub, platformPriv
}

func TestFlagsAndCardsFile(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, platformPriv := writeTestKeys(t, dir)
	cardsFile := filepath.Join(dir, "cards.json")
	require.NoError(t, os.WriteFile(cardsFile, []byte(`[{"account": "4711", "name": "测试", "cardid": "9990004711", "balance_fen": 1234}]`), 0o600))
	simulator := start(t, "--listen", "127.0.0.1:0", "--app-key", "flag-key", "--app-secret-file", secret,
		"--client-public-key", clientPub, "--platform-private-key", platformPriv, "--cards", cardsFile,
		"--timezone", "Asia/Urumqi", "--token-ttl", "30m", "-v")

	clientKey, platformKey, appSecret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(appSecret)
	require.NoError(t, err)
	loc, err := time.LoadLocation("Asia/Urumqi")
	require.NoError(t, err)
	c, err := onecard.New(onecard.Config{URL: simulator.url, AppKey: "flag-key", Cipher: cipher, PrivateKey: clientKey,
		PlatformKey: &platformKey.PublicKey, Location: loc})
	require.NoError(t, err)
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 30*time.Minute, tok.ExpiresIn)
	cards, err := c.QueryCard(t.Context(), tok.Value, onecard.CardQuery{IDType: "acc", ID: "4711"})
	require.NoError(t, err)
	require.Len(t, cards, 1)
	assert.Equal(t, int64(1234), int64(cards[0].Balance))
	_, err = c.QueryCard(t.Context(), tok.Value, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
	var be *onecard.BusinessError
	assert.ErrorAs(t, err, &be, "the file replaces the demo cards")

	log := simulator.stderr.String()
	assert.Contains(t, log, "synjones.onecard.query.card errcode 0 retcode 0", "-v logs requests")
	assert.NotContains(t, log, tok.Value, "tokens stay out of the log")
	assert.Contains(t, log, "full numbers in "+cardsFile)
	assert.Equal(t, exitOK, simulator.stop())
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		var stdout bytes.Buffer
		code := run(context.Background(), []string{arg}, &stdout, &syncbuf.Buffer{}, nil)
		assert.Equal(t, exitOK, code)
		for _, f := range []string{"--listen", "--config", "--demo", "--cards", "--app-key", "--app-secret-file",
			"--client-public-key", "--platform-private-key", "--timezone", "--token-ttl", "-v"} {
			assert.Contains(t, stdout.String(), f)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, _ := writeTestKeys(t, dir)
	notAKey := filepath.Join(dir, "secret")
	badYAML := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(badYAML, []byte("app_kee: typo\n"), 0o600))
	keys := []string{"--app-key", "k", "--app-secret-file", secret, "--client-public-key", clientPub}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing configured", nil, "app_key"},
		{"unknown flag", []string{"--colour"}, "colour"},
		{"stray argument", []string{"serve"}, "serve"},
		{"demo and config", []string{"--demo", dir, "--config", badYAML}, "not both"},
		{"misspelt key", []string{"--config", badYAML}, "app_kee"},
		{"missing config", []string{"--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"secret not base64", append(keys[:2:2], "--app-secret-file", clientPub, "--client-public-key", clientPub), "app_secret_file"},
		{"public key not PEM", append(keys[:4:4], "--client-public-key", notAKey), "client_public_key"},
		{"Local zone", append(keys, "--timezone", "Local"), "timezone"},
		{"unknown zone", append(keys, "--timezone", "Mars/Olympus"), "timezone"},
		{"bad TTL", append(keys, "--token-ttl", "forever"), "token_ttl"},
		{"TTL under a second", append(keys, "--token-ttl", "1ms"), "TokenTTL"},
		{"cards file missing", append(keys, "--cards", filepath.Join(dir, "none.yaml")), "cards_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stderr := &syncbuf.Buffer{}
			code := run(context.Background(), append(tt.args, "--listen", "127.0.0.1:0"), &syncbuf.Buffer{}, stderr, func(string) {
				t.Error("served despite a configuration error")
			})
			assert.Equal(t, exitUsage, code, stderr.String())
			assert.Contains(t, stderr.String(), tt.want)
		})
	}
}

func TestListenFailure(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, _ := writeTestKeys(t, dir)
	stderr := &syncbuf.Buffer{}
	code := run(context.Background(), []string{"--listen", "256.0.0.1:1", "--app-key", "k", "--app-secret-file", secret, "--client-public-key", clientPub},
		&syncbuf.Buffer{}, stderr, nil)
	assert.Equal(t, exitServe, code)
	assert.Contains(t, stderr.String(), "listen")
	assert.Contains(t, stderr.String(), "unsigned", "a simulator without a platform key warns")
}

func TestDialAddr(t *testing.T) {
	tests := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8090}, "127.0.0.1:8090"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8090}, "127.0.0.1:8090"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1}, "127.0.0.2:1"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 1}, "[::1]:1"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, dialAddr(tt.addr))
	}
}
