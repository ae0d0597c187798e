package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// maxFileSize bounds every file the configuration names (and the
// configuration itself): keys and CA bundles are a few kilobytes, so anything
// larger is a wrong path, and the bound keeps a mistake such as /dev/zero from
// exhausting memory.
const maxFileSize = 1 << 20

// readSmallFile reads a regular file of at most maxFileSize bytes. Devices,
// FIFOs and directories are refused before opening so that a bad path can
// never block the agent at start-up.
func readSmallFile(path string) ([]byte, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return data, fi, nil
}

// exposedMode reports whether a file's permissions let users other than the
// owner read it. Windows reports synthetic permission bits, so the check
// would only produce noise there.
func exposedMode(fi fs.FileInfo) bool {
	return runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0
}

// parsePrivateKey reads the first PEM block of data as an RSA private key in
// PKCS#8 ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY") form. Errors never
// quote the key material.
func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("key is passphrase-protected; the agent needs an unencrypted key (protect it with file mode 0600)")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a PKCS#8 private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#8 key is %T, want RSA", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a PKCS#1 private key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("PEM block is %q, want \"PRIVATE KEY\" or \"RSA PRIVATE KEY\"", block.Type)
	}
}

// parsePublicKey reads the first PEM block of data as the platform's RSA
// public key: PKIX ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC KEY") or the public key
// of a certificate, since platforms hand it out in all three forms.
func parsePublicKey(data []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a PKIX public key: %w", err)
		}
		key = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a PKCS#1 public key: %w", err)
		}
		key = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not an X.509 certificate: %w", err)
		}
		key = c.PublicKey
	default:
		return nil, fmt.Errorf("PEM block is %q, want \"PUBLIC KEY\", \"RSA PUBLIC KEY\" or \"CERTIFICATE\"", block.Type)
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", key)
	}
	return rk, nil
}

// parseCAPool reads a PEM bundle of CA certificates. AppendCertsFromPEM
// silently skips blocks it cannot parse, so an empty result is the only
// failure it reports.
func parseCAPool(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("no PEM certificates found")
	}
	return pool, nil
}
