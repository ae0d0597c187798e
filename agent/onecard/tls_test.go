package onecard_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// A campus platform behind its own CA: the client trusts exactly the CA it
// is given, and a client without it fails before anything is sent.
func TestTLSWithCustomCA(t *testing.T) {
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	ts := httptest.NewUnstartedServer(nil)
	simulator, err := sim.NewHandler(sim.Options{AppKey: onecardtest.TestAppKey, AppSecret: secret,
		ClientKey: &clientPriv.PublicKey, PlatformKey: platformPriv, BaseURL: "https://" + ts.Listener.Addr().String(), Strict: true})
	require.NoError(t, err)
	ts.Config.Handler = simulator
	ts.StartTLS()
	t.Cleanup(ts.Close)

	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	cipher, err := onecard.NewCipher(secret)
	require.NoError(t, err)
	newClient := func(roots *x509.CertPool) *onecard.Client {
		c, err := onecard.New(onecard.Config{URL: simulator.URL(), AppKey: onecardtest.TestAppKey, Cipher: cipher,
			PrivateKey: clientPriv, PlatformKey: &platformPriv.PublicKey, Location: simulator.Location(),
			HTTPClient: onecard.NewHTTPClient(5*time.Second, roots)})
		require.NoError(t, err)
		return c
	}

	tok, err := newClient(roots).AccessToken(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, tok.Value)

	_, err = newClient(nil).AccessToken(context.Background())
	var te *onecard.TransportError
	require.True(t, errors.As(err, &te), "%v", err)
	assert.False(t, te.Sent, "the handshake failed: nothing reached the platform")
	assert.True(t, onecard.Declined(err))
}
