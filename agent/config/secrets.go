package config

import (
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
)

// redacted is what every rendering of Secrets prints.
const redacted = "[redacted]"

// Secrets holds the terminal's credentials: the app_secret (base64 text and
// the 3DES key it decodes to) and the client's RSA private key. Every way of
// printing it — fmt with any verb, slog, encoding/json — yields "[redacted]",
// so a Config can be logged or shown in a test failure without leaking them.
//
// The material sits behind a function rather than in plain fields because
// reflection-based dumpers (the ones test libraries use for diffs) print
// unexported fields but can only show a function's address.
type Secrets struct {
	get func() secretMaterial
}

type secretMaterial struct {
	appSecret  string
	desKey     []byte
	privateKey *rsa.PrivateKey
}

func newSecrets(m secretMaterial) Secrets {
	return Secrets{get: func() secretMaterial { return m }}
}

func (s Secrets) material() secretMaterial {
	if s.get == nil {
		return secretMaterial{}
	}
	return s.get()
}

// AppSecret returns platform.app_secret as written in the file (base64).
func (s Secrets) AppSecret() string { return s.material().appSecret }

// DESKey returns a copy of the 24-byte 3DES key that app_secret decodes to,
// so a caller cannot alter the key held by the Config.
func (s Secrets) DESKey() []byte {
	k := s.material().desKey
	if k == nil {
		return nil
	}
	return append([]byte(nil), k...)
}

// PrivateKey returns the client's RSA signing key from platform.private_key.
func (s Secrets) PrivateKey() *rsa.PrivateKey { return s.material().privateKey }

// String returns "[redacted]".
func (Secrets) String() string { return redacted }

// GoString returns "[redacted]", so %#v hides the secrets too.
func (Secrets) GoString() string { return redacted }

// Format prints "[redacted]" for every verb, including %x and %q which would
// otherwise bypass String.
func (Secrets) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue makes slog print "[redacted]".
func (Secrets) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText makes encoding/json and similar encoders print "[redacted]".
func (Secrets) MarshalText() ([]byte, error) { return []byte(redacted), nil }
