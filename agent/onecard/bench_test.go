package onecard

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent/money"
)

// benchClient is a client configured with the test keys; it sends nothing.
func benchClient(b *testing.B) (*Client, *rsa.PrivateKey) {
	b.Helper()
	priv, err := ParsePrivateKeyPEM(readTestdata(b, filepath.Join(keyDir, "TEST-ONLY-client-private.pem")))
	if err != nil {
		b.Fatal(err)
	}
	platPriv, err := ParsePrivateKeyPEM(readTestdata(b, filepath.Join(keyDir, "TEST-ONLY-platform-private.pem")))
	if err != nil {
		b.Fatal(err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		b.Fatal(err)
	}
	c, err := New(Config{URL: "http://127.0.0.1:1/tsm", AppKey: "testapp", Cipher: testCipher(b), PrivateKey: priv,
		PlatformKey: &platPriv.PublicKey, Location: loc})
	if err != nil {
		b.Fatal(err)
	}
	return c, platPriv
}

var benchPay = PayRequest{OrderNo: "001720261127120000000001", Account: "32718", AccType: "###", MercAcc: "100000", Amount: money.Fen(1234), TermID: "17"}

// BenchmarkRSASignFloor is the floor for building a request: one
// SHA1withRSA signature with a 2048-bit key, nothing else.
func BenchmarkRSASignFloor(b *testing.B) {
	_, priv := benchClient(b)
	sum := sha1.Sum([]byte(strings.Repeat("x", 400)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA1, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildPayRequest: JSON, 3DES, signing text, signature, form.
func BenchmarkBuildPayRequest(b *testing.B) {
	c, _ := benchClient(b)
	params := map[string]string{"account": benchPay.Account, "tranamt": benchPay.Amount.Yuan(), "acctype": "###",
		"mercacc": benchPay.MercAcc, "order_no": benchPay.OrderNo, "termid": "17"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.BuildForm(MethodPay, strings.Repeat("a", 32), params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenPayReply: envelope, signature verification, 3DES, JSON.
func BenchmarkOpenPayReply(b *testing.B) {
	c, platPriv := benchClient(b)
	reply, _ := json.Marshal(map[string]any{"gdccard_pay": map[string]string{"retcode": "0", "errmsg": "", "account": "32718",
		"tranamt": "12.34", "acctype": "###", "mercacc": "100000", "order_no": benchPay.OrderNo, "out_id": "202611270000000001"}})
	body, err := EncodeReply("0", c.cfg.Cipher.Encrypt(reply), true, platPriv)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		inner, err := c.open(MethodPay, 200, body)
		if err != nil {
			b.Fatal(err)
		}
		var w wireResult
		if err := json.Unmarshal(inner, &w); err != nil {
			b.Fatal(err)
		}
	}
}
