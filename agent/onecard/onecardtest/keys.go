package onecardtest

import (
	"crypto/rsa"
	"embed"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// testKeys holds the TEST-ONLY key material; see testdata/keys/README.md.
//
//go:embed testdata/keys/TEST-ONLY-*
var testKeys embed.FS

// TestAppKey is the app key NewTestPair configures on both sides.
const TestAppKey = "kiosk-test-app"

// TestKeys returns the repository's TEST-ONLY credentials: the client's
// signing key, the platform's signing key and the base64 app secret. They
// are public by being in the repository; never use them outside tests. It
// panics if the embedded files are damaged, which only a broken checkout
// can cause.
func TestKeys() (clientPriv, platformPriv *rsa.PrivateKey, appSecret string) {
	read := func(name string) []byte {
		b, err := testKeys.ReadFile("testdata/keys/" + name)
		if err != nil {
			panic(fmt.Sprintf("onecardtest: embedded test key %s: %v", name, err))
		}
		return b
	}
	key := func(name string) *rsa.PrivateKey {
		k, err := onecard.ParsePrivateKeyPEM(read(name))
		if err != nil {
			panic(fmt.Sprintf("onecardtest: embedded test key %s: %v", name, err))
		}
		return k
	}
	return key("TEST-ONLY-client-private.pem"), key("TEST-ONLY-platform-private.pem"),
		strings.TrimSpace(string(read("TEST-ONLY-app-secret.txt")))
}

// NewTestPair starts a sim.Server with the test keys (TestAppKey, TestKeys) and
// returns it with a Client configured for it: same app key and secret, the
// client test key for signing, reply signatures verified against the
// platform key, the server's zone and clock (Options.Now). The simulator
// is strict (Options.Strict): the tests that use it test the project's own
// client, which must send no field v2.42 does not list. Each opts
// function may change the Options before the server starts; the client
// follows AppKey, AppSecret, PlatformKey, Location and Now but always signs
// with the client test key. Close and the client's idle connections are
// cleaned up with t.Cleanup.
func NewTestPair(t testing.TB, opts ...func(*sim.Options)) (*sim.Server, *onecard.Client) {
	t.Helper()
	clientPriv, platformPriv, secret := TestKeys()
	o := sim.Options{
		AppKey:      TestAppKey,
		AppSecret:   secret,
		ClientKey:   &clientPriv.PublicKey,
		PlatformKey: platformPriv,
		Strict:      true,
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := sim.NewHandler(o)
	if err != nil {
		t.Fatalf("onecardtest: %v", err)
	}
	s.Start()
	t.Cleanup(s.Close)

	cipher, err := onecard.NewCipher(o.AppSecret)
	if err != nil {
		t.Fatalf("onecardtest: app secret: %v", err)
	}
	hc := onecard.NewHTTPClient(10*time.Second, nil)
	t.Cleanup(hc.CloseIdleConnections)
	cfg := onecard.Config{
		URL:        s.URL(),
		BillURL:    s.BillURL(),
		AppKey:     o.AppKey,
		Cipher:     cipher,
		PrivateKey: clientPriv,
		Location:   s.Location(),
		HTTPClient: hc,
		Now:        o.Now,
	}
	if o.PlatformKey != nil {
		cfg.PlatformKey = &o.PlatformKey.PublicKey
	}
	c, err := onecard.New(cfg)
	if err != nil {
		t.Fatalf("onecardtest: client: %v", err)
	}
	return s, c
}
