package onecard

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// signingText builds the text that is signed: every field except `sign`,
// sorted by name in byte order, concatenated as name+value with no
// separators (spec 1.3, NOTES "Signature").
func signingText(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	size := 0
	for k, v := range fields {
		if k == "sign" {
			continue
		}
		names = append(names, k)
		size += len(k) + len(v)
	}
	sort.Strings(names)
	var b strings.Builder
	b.Grow(size)
	for _, k := range names {
		b.WriteString(k)
		b.WriteString(fields[k])
	}
	return b.String()
}

// Sign returns the standard-base64 SHA1withRSA (PKCS#1 v1.5) signature of
// the fields' signing text.
func Sign(key *rsa.PrivateKey, fields map[string]string) (string, error) {
	sum := sha1.Sum([]byte(signingText(fields)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// ErrBadSignature is wrapped by Verify's failures.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks a standard-base64 SHA1withRSA signature over the fields'
// signing text.
func Verify(key *rsa.PublicKey, fields map[string]string, sig string) error {
	if sig == "" {
		return fmt.Errorf("%w: signature missing", ErrBadSignature)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	sum := sha1.Sum([]byte(signingText(fields)))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA1, sum[:], raw); err != nil {
		return ErrBadSignature
	}
	return nil
}

// ParsePrivateKeyPEM reads an RSA private key in PEM, PKCS#8 or PKCS#1.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#8 key is %T, want RSA", k)
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("PEM block %q is neither a PKCS#8 nor a PKCS#1 RSA private key", block.Type)
	}
	return k, nil
}

// ParsePublicKeyPEM reads an RSA public key in PEM: PKIX ("PUBLIC KEY"),
// PKCS#1 ("RSA PUBLIC KEY") or inside a certificate.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var pub any
	var err error
	switch block.Type {
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("PEM block %q: %w", block.Type, err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", pub)
	}
	return rk, nil
}
