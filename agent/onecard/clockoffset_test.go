package onecard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// dateClient returns a client whose clock stands at now, calling a server
// that answers every request with the Date header date (none when empty)
// and a body that is not a valid reply.
func dateClient(t *testing.T, now time.Time, date string) *onecard.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if date == "" {
			w.Header()["Date"] = nil // Go's server then sends none
		} else {
			w.Header().Set("Date", date)
		}
		_, _ = w.Write([]byte("not a reply"))
	}))
	t.Cleanup(srv.Close)
	clientPriv, _, secret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(secret)
	require.NoError(t, err)
	c, err := onecard.New(onecard.Config{URL: srv.URL, AppKey: onecardtest.TestAppKey, Cipher: cipher,
		PrivateKey: clientPriv, Location: time.UTC, Now: func() time.Time { return now }})
	require.NoError(t, err)
	return c
}

func TestClockOffsetFromDateHeader(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := dateClient(t, now, now.Add(5*time.Minute).Format(http.TimeFormat))
	_, _, ok := c.ClockOffset()
	assert.False(t, ok, "no reply yet")

	_, err := c.AccessToken(context.Background())
	require.Error(t, err, "the body is not a reply, but the header still counts")
	off, at, ok := c.ClockOffset()
	require.True(t, ok)
	assert.Equal(t, 5*time.Minute, off, "the platform's web server is 5 minutes ahead")
	assert.Equal(t, now, at)
}

func TestClockOffsetWithoutDateHeader(t *testing.T) {
	c := dateClient(t, time.Now(), "")
	_, err := c.AccessToken(context.Background())
	require.Error(t, err)
	_, _, ok := c.ClockOffset()
	assert.False(t, ok, "no Date header, no offset")
}

// The simulator's Date header follows its clock and its offset, so that a
// test (or the demo) can show a terminal whose clock is off.
func TestClockOffsetFromSimulator(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	srv, c := onecardtest.NewTestPair(t, func(o *sim.Options) { o.Now = func() time.Time { return now } })
	_, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	off, _, ok := c.ClockOffset()
	require.True(t, ok)
	assert.Zero(t, off)

	srv.SetClockOffset(-4 * time.Minute)
	_, err = c.AccessToken(context.Background())
	require.Error(t, err, "the token interval; the header counts all the same")
	off, _, ok = c.ClockOffset()
	require.True(t, ok)
	assert.Equal(t, -4*time.Minute, off)
}
