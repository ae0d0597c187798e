package onecardtest

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// WriteKioskConfig writes, into dir, the TEST-ONLY client key, the
// platform's public key and a kiosk configuration (agent/config) for a
// terminal of s: termid 17, mercacc 100000, its store at dir/kiosk.db.
// extra is YAML appended as it is (more sections, e.g. offline:). It
// returns the configuration's path. The server must use TestAppKey and the
// TestKeys, as NewTestPair's does.
func WriteKioskConfig(t testing.TB, dir string, s *Server, timeout string, extra string) string {
	t.Helper()
	clientPriv, platformPriv, secret := TestKeys()
	write := func(name, typ string, der []byte, err error) {
		if err != nil {
			t.Fatalf("onecardtest: %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatalf("onecardtest: %v", err)
		}
	}
	der, err := x509.MarshalPKCS8PrivateKey(clientPriv)
	write("client.pem", "PRIVATE KEY", der, err)
	der, err = x509.MarshalPKIXPublicKey(&platformPriv.PublicKey)
	write("platform.pub", "PUBLIC KEY", der, err)
	cfg := fmt.Sprintf(`platform:
  url: %s
  app_key: %s
  app_secret: %s
  private_key: client.pem
  public_key: platform.pub
  timezone: %s
  timeout: %s
terminal:
  termid: "17"
  mercacc: "100000"
store:
  path: kiosk.db
%s`, s.URL(), TestAppKey, secret, s.Location().String(), timeout, extra)
	path := filepath.Join(dir, "kiosk.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("onecardtest: %v", err)
	}
	return path
}
