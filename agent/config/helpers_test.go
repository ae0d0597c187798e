package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// testKey is generated once per test binary: 1024 bits is enough to exercise
// parsing and keeps -race runs quick.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	return k
})

// testSecret is a 24-byte app_secret made for the tests; it only has to be
// recognisable when searching output for leaks.
var testSecret = base64.StdEncoding.EncodeToString([]byte("TESTSECRET-0123456789abc"))

// fixture is a directory holding valid key files and the settings of a valid
// configuration that refers to them.
type fixture struct {
	dir      string
	settings map[string]map[string]any
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	key := testKey()

	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "client.pem"), "PRIVATE KEY", pkcs8, 0o600)
	writePEM(t, filepath.Join(dir, "client-pkcs1.pem"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), 0o600)

	pkix, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "platform.pem"), "PUBLIC KEY", pkix, 0o644)
	writePEM(t, filepath.Join(dir, "platform-pkcs1.pem"), "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&key.PublicKey), 0o644)

	cert := selfSigned(t, key)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", cert, 0o644)

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "ec.pem"), "PRIVATE KEY", ecDER, 0o600)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("not a key at all\n"), 0o600))

	return &fixture{
		dir: dir,
		settings: map[string]map[string]any{
			"platform": {
				"url":         "http://127.0.0.1:8090/tsm",
				"app_key":     "kiosk-app",
				"app_secret":  testSecret,
				"private_key": "client.pem",
				"public_key":  "platform.pem",
			},
			"terminal": {
				"termid":  "17",
				"mercacc": "100000",
			},
			"store": {
				"path": "kiosk.db",
			},
		},
	}
}

func (f *fixture) yaml(t *testing.T) []byte {
	t.Helper()
	data, err := yaml.Marshal(f.settings)
	require.NoError(t, err)
	return data
}

func writePEM(t *testing.T, path, typ string, der []byte, mode os.FileMode) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	require.NoError(t, os.WriteFile(path, data, mode))
	// WriteFile's mode is filtered by the umask; the tests need it exact.
	require.NoError(t, os.Chmod(path, mode))
}

func selfSigned(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test platform CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return der
}

// accepted is an edit of the fixture's settings that must load, and what
// to check of the result.
type accepted struct {
	name  string
	edit  func(s map[string]map[string]any)
	check func(t *testing.T, cfg *Config)
}

func runAccepted(t *testing.T, tests []accepted) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseEdited(t, tt.edit)
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

// rejected is an edit of the fixture's settings that must fail with one
// problem, on field.
type rejected struct {
	name  string
	edit  func(s map[string]map[string]any)
	field string
	is    error  // when set, the error must wrap it
	want  string // when set, the message must contain it
}

func runRejected(t *testing.T, tests []rejected) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseEdited(t, tt.edit)
			require.Error(t, err)
			assert.Nil(t, cfg)

			errs := Errors(err)
			require.Len(t, errs, 1, "want exactly one problem, got: %v", err)
			e := errs[0]
			assert.Equal(t, tt.field, e.Field)
			assert.Equal(t, "", e.File)
			if !errors.Is(err, ErrRequired) {
				assert.Positive(t, e.Line, "the line of the key is known when the key is there")
			}
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			if tt.want != "" {
				assert.Contains(t, err.Error(), tt.want)
			}
			assert.Contains(t, err.Error(), tt.field)
			assertNoSecret(t, err.Error())
		})
	}
}

// parseEdited parses the fixture's settings after edit.
func parseEdited(t *testing.T, edit func(s map[string]map[string]any)) (*Config, error) {
	t.Helper()
	f := newFixture(t)
	edit(f.settings)
	return Parse(f.yaml(t), f.dir)
}

// wrongKind is YAML appended to the fixture's that puts the wrong kind of
// value (a list, a mapping, a scalar) at field.
type wrongKind struct {
	name, yaml, field string
}

func runWrongKinds(t *testing.T, tests []wrongKind) {
	t.Helper()
	f := newFixture(t)
	base := f.yaml(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(append(append([]byte{}, base...), tt.yaml...), f.dir)
			require.Error(t, err)
			errs := Errors(err)
			require.Len(t, errs, 1, "got: %v", err)
			assert.Equal(t, tt.field, errs[0].Field)
			assert.Contains(t, err.Error(), "wrong kind of value")
		})
	}
}

// problemFields lists the fields of the problems in err, the error of a
// failed Parse.
func problemFields(err error) []string {
	var fields []string
	for _, e := range Errors(err) {
		fields = append(fields, e.Field)
	}
	return fields
}
