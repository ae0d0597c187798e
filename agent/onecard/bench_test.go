package onecard

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/json"
	"fmt"
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

// benchCalls holds, per method, a typical request's parameters and a
// typical success reply's fields.
var benchCalls = []struct {
	method string
	params any
	reply  map[string]any
}{
	{MethodAccessToken, struct{}{}, map[string]any{"retcode": "0", "errmsg": "", "access_token": strings.Repeat("t", 32), "expires_in": "7200"}},
	{MethodQueryCard, map[string]string{"idtype": "cardid", "id": "3197650001"}, map[string]any{"retcode": "0", "errmsg": "",
		"card": []map[string]string{{"account": "32718", "name": "张三", "unsettle_amount": "0", "db_balance": "10000", "lostflag": "0",
			"freezeflag": "0", "idflag": "1", "barflag": "1", "createdate": "20240901", "expdate": "20280731", "cardtype": "1",
			"cardname": "学生卡", "autotrans_limite": "0", "autotrans_amt": "0", "autotrans_flag": "0", "mscard": "0"}}}},
	{MethodPay, map[string]string{"account": "32718", "tranamt": "12.34", "acctype": "###", "mercacc": "100000",
		"order_no": benchPay.OrderNo, "termid": "17"}, map[string]any{"retcode": "0", "errmsg": "", "account": "32718",
		"tranamt": "12.34", "acctype": "###", "mercacc": "100000", "order_no": benchPay.OrderNo, "out_id": "202611270000000001"}},
	{MethodRefund, map[string]string{"account": "32718", "tranamt": "2.34", "acctype": "###", "mercacc": "100000",
		"order_no": "001720261127120000000002", "refund_order_no": benchPay.OrderNo, "termid": "17"}, map[string]any{"retcode": "0",
		"errmsg": "", "account": "32718", "tranamt": "2.34", "acctype": "###", "mercacc": "100000",
		"order_no": "001720261127120000000002", "refund_order_no": benchPay.OrderNo, "out_id": "202611270000000002"}},
	{MethodPayQuery, map[string]any{"pay_queries": benchQueries(50)}, map[string]any{"retcode": "0", "errmsg": "", "pay_querys": benchStatuses(50)}},
}

func benchQueries(n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"account": "32718", "acctype": "###", "order_no": fmt.Sprintf("0017202611271200000%05d", i)}
	}
	return out
}

func benchStatuses(n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"account": "32718", "acctype": "###", "order_no": fmt.Sprintf("0017202611271200000%05d", i),
			"tranamt": "1.00", "out_id": fmt.Sprintf("2026112700000%05d", i), "order_status": "60", "retcode": "0", "errmsg": ""}
	}
	return out
}

// BenchmarkBuildRequest: JSON, 3DES, signing text, signature, form; per
// call (pay.query with 50 orders). Compare with BenchmarkRSASignFloor.
func BenchmarkBuildRequest(b *testing.B) {
	c, _ := benchClient(b)
	for _, bc := range benchCalls {
		b.Run(bc.method, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.BuildForm(bc.method, strings.Repeat("a", 32), bc.params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRSAVerifyFloor is the floor for opening a reply: one SHA1withRSA
// verification, nothing else.
func BenchmarkRSAVerifyFloor(b *testing.B) {
	_, priv := benchClient(b)
	sum := sha1.Sum([]byte(strings.Repeat("x", 400)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA1, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA1, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenReply: envelope, signature verification, 3DES, JSON, down
// to the reply object; per call. Compare with BenchmarkRSAVerifyFloor.
func BenchmarkOpenReply(b *testing.B) {
	c, platPriv := benchClient(b)
	for _, bc := range benchCalls {
		b.Run(bc.method, func(b *testing.B) {
			key, _ := RequestKey(bc.method)
			plain, err := json.Marshal(map[string]any{key: bc.reply})
			if err != nil {
				b.Fatal(err)
			}
			body, err := EncodeReply("0", c.cfg.Cipher.Encrypt(plain), true, platPriv)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.open(bc.method, 200, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseBill: a day's bill of a busy canteen, 10,000 rows.
func BenchmarkParseBill(b *testing.B) {
	rows := make([]BillRow, 10_000)
	for i := range rows {
		rows[i] = BillRow{Time: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), Account: "32718", AccType: "###", MercAcc: "100000",
			OutID: fmt.Sprintf("2026112700000%05d", i), OrderNo: fmt.Sprintf("0017202611271200000%05d", i), Type: BillTypePay, Status: "60", Amount: 1234}
	}
	text := FormatBill(BillHeader, rows)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBill(text); err != nil {
			b.Fatal(err)
		}
	}
}

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
