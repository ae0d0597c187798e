package onecard

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const keyDir = "onecardtest/testdata/keys"

func readTestdata(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func vector(t testing.TB, name string) []byte {
	return readTestdata(t, filepath.Join("testdata", "vectors", name))
}

func testCipher(t testing.TB) *Cipher {
	t.Helper()
	c, err := NewCipher(strings.TrimSpace(string(readTestdata(t, filepath.Join(keyDir, "TEST-ONLY-app-secret.txt")))))
	require.NoError(t, err)
	return c
}

// The vectors were made with openssl (testdata/vectors/README.md), a second
// implementation of the same ciphers.
func TestCipherMatchesOpenSSL(t *testing.T) {
	c := testCipher(t)
	plain := vector(t, "pay-request.json")
	want := strings.TrimSpace(string(vector(t, "pay-request.3des.b64")))
	assert.Equal(t, want, c.Encrypt(plain))
	got, err := c.Decrypt(want)
	require.NoError(t, err)
	assert.Equal(t, plain, got)
}

func TestBillCipherMatchesOpenSSL(t *testing.T) {
	c := testCipher(t)
	plain := vector(t, "bill.txt")
	want := strings.TrimSpace(string(vector(t, "bill.des.b64")))
	assert.Equal(t, want, c.EncryptBill(plain))
	got, err := c.DecryptBill([]byte(want + "\n"))
	require.NoError(t, err)
	assert.Equal(t, plain, got)
	bill, err := ParseBill(got)
	require.NoError(t, err)
	assert.Equal(t, 1, bill.Count)
}

func TestNewCipherRefusesBadSecrets(t *testing.T) {
	for name, secret := range map[string]string{
		"not base64": "!!!",
		"16 bytes":   base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"empty":      "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewCipher(secret)
			assert.Error(t, err)
		})
	}
}

func TestDecryptWithWrongKeyFails(t *testing.T) {
	c := testCipher(t)
	other, err := NewCipherKey([]byte("0123456789abcdefghijklmn"))
	require.NoError(t, err)
	_, err = other.Decrypt(c.Encrypt([]byte(`{"x":1}`)))
	assert.ErrorContains(t, err, "padding")
	for _, bad := range []string{"", "AAAA", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 7))} {
		_, err := c.Decrypt(bad)
		assert.Error(t, err, bad)
	}
}

func TestSignatureMatchesOpenSSL(t *testing.T) {
	priv, err := ParsePrivateKeyPEM(readTestdata(t, filepath.Join(keyDir, "TEST-ONLY-client-private.pem")))
	require.NoError(t, err)
	fields := map[string]string{
		"access_token": strings.Repeat("0", 128),
		"app_key":      "testapp",
		"format":       "json",
		"method":       MethodPay,
		"request":      strings.TrimSpace(string(vector(t, "pay-request.3des.b64"))),
		"sign_method":  "rsa",
		"timestamp":    "2016-02-02 12:00:00",
		"v":            "2.0",
		"sign":         "ignored: sign is never part of the signed text",
	}
	require.Equal(t, string(vector(t, "pay-signing.txt")), signingText(fields))
	sig, err := Sign(priv, fields)
	require.NoError(t, err)
	// PKCS#1 v1.5 is deterministic: the same key and text give openssl's bytes.
	assert.Equal(t, strings.TrimSpace(string(vector(t, "pay-signing.sig.b64"))), sig)

	pub, err := ParsePublicKeyPEM(readTestdata(t, filepath.Join(keyDir, "TEST-ONLY-client-public.pem")))
	require.NoError(t, err)
	require.NoError(t, Verify(pub, fields, sig))
	fields["tranamt"] = "tampered"
	assert.ErrorIs(t, Verify(pub, fields, sig), ErrBadSignature)
}

func TestReplySignatureFromOpenSSLVerifies(t *testing.T) {
	pub, err := ParsePublicKeyPEM(readTestdata(t, filepath.Join(keyDir, "TEST-ONLY-platform-public.pem")))
	require.NoError(t, err)
	r := Reply{Errcode: "0", Request: strings.TrimSpace(string(vector(t, "pay-request.3des.b64"))), HasRequest: true}
	require.Equal(t, string(vector(t, "reply-signing.txt")), signingText(r.Fields()))
	sig := strings.TrimSpace(string(vector(t, "reply-signing.sig.b64")))
	assert.NoError(t, Verify(pub, r.Fields(), sig))
	assert.ErrorIs(t, Verify(pub, r.Fields(), ""), ErrBadSignature)
	assert.ErrorIs(t, Verify(pub, r.Fields(), "%%%"), ErrBadSignature)
}

func TestParseKeys(t *testing.T) {
	_, err := ParsePrivateKeyPEM(readTestdata(t, filepath.Join(keyDir, "TEST-ONLY-platform-private.pem")))
	assert.NoError(t, err, "PKCS#1 private key")
	_, err = ParsePrivateKeyPEM([]byte("no pem here"))
	assert.Error(t, err)
	_, err = ParsePrivateKeyPEM(readTestdata(t, filepath.Join(keyDir, "TEST-ONLY-client-public.pem")))
	assert.Error(t, err, "a public key is not a private key")
	_, err = ParsePublicKeyPEM([]byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	assert.Error(t, err)
}
