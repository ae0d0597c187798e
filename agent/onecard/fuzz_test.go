package onecard

import (
	"encoding/json"
	"math/big"
	"testing"
)

// FuzzParseReply feeds arbitrary bodies to the reply path a client takes:
// envelope, signature check, decryption, JSON, and a pay reply's amount.
// It must classify, never panic, never report success for a body it
// cannot verify, and read an amount exactly or not at all, whether it
// comes as a string or as a number (testdata/fuzz holds both shapes).
func FuzzParseReply(f *testing.F) {
	c := testCipher(f)
	ok, err := EncodeReply("0", c.Encrypt([]byte(`{"gdccard_pay":{"retcode":"0","errmsg":"","account":"1","tranamt":"1.00","order_no":"1","out_id":"9"}}`)), true, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ok, 200)
	f.Add([]byte("errcode=40017"), 200)
	f.Add([]byte("系统繁忙"), 200)
	f.Add([]byte("errcode=0&request=&sign="), 500)
	f.Add([]byte("errcode=0&request=%zz"), 200)
	f.Add([]byte("errcode=0&errcode=1"), 200)
	cl := &Client{cfg: Config{Cipher: c}}
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		inner, err := cl.open(MethodPay, status, body)
		if err == nil && len(inner) == 0 {
			t.Fatalf("success without a reply object for %q", body)
		}
		if err != nil && !Declined(err) && !OutcomeUnknown(err) {
			t.Fatalf("error neither declined nor unknown: %v", err)
		}
		if err != nil {
			return
		}
		var w wireResult
		if json.Unmarshal(inner, &w) != nil {
			return
		}
		if amt, err := w.amount(MethodPay); err == nil {
			// big.Rat reads the decimal text exactly: the fen must be
			// the very value written, with nothing rounded away.
			want, ok := new(big.Rat).SetString(string(w.Tranamt))
			if !ok || want.Cmp(big.NewRat(int64(amt), 100)) != 0 {
				t.Fatalf("tranamt %q read as %d fen", w.Tranamt, amt)
			}
		}
	})
}

// FuzzParseBill: any bytes give a bill whose trailer agrees with its rows,
// or an error.
func FuzzParseBill(f *testing.F) {
	f.Add([]byte(specBill))
	f.Add([]byte("#h\n#t\n0,0.00\n"))
	f.Add([]byte("#h\n20160512190107,1,###,0,1,1,02,60,0.50,\n#t\n1,0.50\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		b, err := ParseBill(text)
		if err != nil {
			return
		}
		var sum int64
		for _, r := range b.Rows {
			sum += int64(r.Amount)
		}
		if b.Count != len(b.Rows) || int64(b.Total) != sum {
			t.Fatalf("accepted an inconsistent bill: %+v", b)
		}
	})
}
