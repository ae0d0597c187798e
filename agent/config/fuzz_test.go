package config

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// FuzzParse checks that no input makes Parse panic, and that whatever it
// accepts satisfies the limits it promises. The seed corpus lives in
// testdata/fuzz/FuzzParse; the directory below gives relative key paths in
// the inputs something real to find.
func FuzzParse(f *testing.F) {
	dir := f.TempDir()
	der, err := x509.MarshalPKCS8PrivateKey(testKey())
	if err != nil {
		f.Fatal(err)
	}
	pemData := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "client.pem"), pemData, 0o600); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("platform:\n  url: http://127.0.0.1:8090/tsm\n  app_key: k\n  app_secret: " + testSecret +
		"\n  private_key: client.pem\nterminal:\n  termid: 17\n  mercacc: \"1\"\nstore:\n  path: db\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, dir)
		if err != nil {
			if cfg != nil {
				t.Fatalf("both a Config and an error: %v", err)
			}
			if len(Errors(err)) == 0 {
				t.Fatalf("error is not made of *Error: %v", err)
			}
			return
		}
		n, convErr := strconv.Atoi(cfg.Terminal.TermID)
		switch {
		case convErr != nil || n < MinTermID || n > MaxTermID:
			t.Fatalf("accepted termid %q", cfg.Terminal.TermID)
		case len(cfg.Platform.Secrets.DESKey()) != DESKeyLen:
			t.Fatalf("accepted a %d-byte 3DES key", len(cfg.Platform.Secrets.DESKey()))
		case cfg.Platform.Secrets.PrivateKey() == nil:
			t.Fatal("accepted without a private key")
		case cfg.Platform.Location == nil:
			t.Fatal("accepted without a time zone")
		case cfg.Platform.Timeout <= 0 || cfg.Platform.Timeout > MaxTimeout:
			t.Fatalf("accepted timeout %s", cfg.Platform.Timeout)
		case cfg.Platform.URL == "" || cfg.Platform.BillURL == "" || cfg.Store.Path == "":
			t.Fatalf("accepted with an empty URL or store path: %+v", cfg)
		case len(cfg.Terminal.MercAcc) == 0 || len(cfg.Terminal.MercAcc) > MaxMercAccLen:
			t.Fatalf("accepted mercacc %q", cfg.Terminal.MercAcc)
		case len(cfg.Terminal.AccType) == 0 || len(cfg.Terminal.AccType) > MaxAccTypeLen:
			t.Fatalf("accepted acctype %q", cfg.Terminal.AccType)
		case cfg.Terminal.Mode != ModeCanteen && cfg.Terminal.Mode != ModeKiosk:
			t.Fatalf("accepted mode %q", cfg.Terminal.Mode)
		}
		o, r := cfg.Offline, cfg.Reconcile
		switch {
		case o.MaxAmount < 1 || o.MaxTotal < 1 || o.MaxPerCardDay < 1 || o.MaxAmount > o.MaxTotal:
			t.Fatalf("accepted offline amounts %+v", o)
		case o.MaxCount < 1 || o.CardMaxAge <= 0:
			t.Fatalf("accepted offline limits %+v", o)
		case r.Interval <= 0 || r.Interval > r.MaxInterval || r.GiveUpAfter < r.MaxInterval:
			t.Fatalf("accepted reconcile timing %+v", r)
		case r.Orphans != OrphansRefund && r.Orphans != OrphansReview:
			t.Fatalf("accepted orphans %q", r.Orphans)
		}
		st := cfg.Settlement
		switch {
		case st.At < 0 || st.At >= 24*time.Hour || st.At%time.Minute != 0:
			t.Fatalf("accepted settlement.at %s", st.At)
		case st.Jitter < 0 || st.Jitter > MaxSettlementJitter:
			t.Fatalf("accepted settlement.jitter %s", st.Jitter)
		case st.CatchUpDays < MinSettlementCatchUpDays || st.CatchUpDays > MaxSettlementCatchUpDays:
			t.Fatalf("accepted settlement.catch_up_days %d", st.CatchUpDays)
		case st.Retry <= 0 || st.Retry > st.MaxRetry:
			t.Fatalf("accepted settlement timing %+v", st)
		}
		u := cfg.UI
		switch {
		case u.Mode != ModeCanteen && u.Mode != ModeKiosk:
			t.Fatalf("accepted ui.mode %q", u.Mode)
		case u.Language != LangChinese && u.Language != LangEnglish:
			t.Fatalf("accepted ui.language %q", u.Language)
		case u.IdleTimeout < MinIdleTimeout || u.IdleTimeout > MaxIdleTimeout:
			t.Fatalf("accepted ui.idle_timeout %s", u.IdleTimeout)
		case len(u.Menu) > MaxMenuItems:
			t.Fatalf("accepted %d menu items", len(u.Menu))
		}
		for _, m := range u.Menu {
			if m.Name == "" || m.Price < 1 {
				t.Fatalf("accepted menu item %+v", m)
			}
		}
	})
}
