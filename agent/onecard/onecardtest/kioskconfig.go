package onecardtest

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// WriteKioskConfig writes, into dir, the TEST-ONLY client key, the
// platform's public key and a kiosk configuration (agent/config) for a
// terminal of s: termid 17, mercacc 100000, its store at dir/kiosk.db.
// extra is YAML appended as it is (more sections, e.g. offline:). It
// returns the configuration's path. The server must use TestAppKey and the
// TestKeys, as NewTestPair's does.
func WriteKioskConfig(t testing.TB, dir string, s *sim.Server, timeout string, extra string) string {
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
	body, err := config.Marshal(config.File{
		Platform: config.FilePlatform{URL: s.URL(), AppKey: TestAppKey, AppSecret: secret, PrivateKey: "client.pem",
			PublicKey: "platform.pub", Timezone: s.Location().String(), Timeout: timeout},
		Terminal: config.FileTerminal{TermID: "17", MercAcc: "100000"},
		Store:    config.FileStore{Path: "kiosk.db"},
	})
	if err != nil {
		t.Fatalf("onecardtest: %v", err)
	}
	cfg := string(body) + extra
	path := filepath.Join(dir, "kiosk.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("onecardtest: %v", err)
	}
	return path
}
