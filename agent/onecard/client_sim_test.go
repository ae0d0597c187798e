package onecard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// These tests run the client against the strict simulator over real HTTP
// on loopback. The platform's clock is a fakeClock shared with the client,
// so token intervals, expiry and bill dates are moved, never waited for.

var shanghai = mustLocation("Asia/Shanghai")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// baseTime is a Sunday morning on the platform.
var baseTime = time.Date(2024, 5, 12, 10, 0, 0, 0, shanghai)

// env is one simulator with a client that already holds a token.
type env struct {
	srv   *sim.Server
	c     *onecard.Client
	clock *onecardtest.Clock
	tok   string
}

func setupAt(t testing.TB, start time.Time, opts ...func(*sim.Options)) *env {
	t.Helper()
	clock := onecardtest.NewClock(start)
	opts = append([]func(*sim.Options){func(o *sim.Options) { o.Now = clock.Now }}, opts...)
	srv, c := onecardtest.NewTestPair(t, opts...)
	tok, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	return &env{srv: srv, c: c, clock: clock, tok: tok.Value}
}

func setup(t testing.TB, opts ...func(*sim.Options)) *env {
	t.Helper()
	return setupAt(t, baseTime, opts...)
}

// client returns another client of the simulator, built like NewTestPair's
// and then changed by mutate.
func (e *env) client(t *testing.T, mutate func(*onecard.Config)) *onecard.Client {
	t.Helper()
	clientPriv, platformPriv, secret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(secret)
	require.NoError(t, err)
	hc := onecard.NewHTTPClient(5*time.Second, nil)
	t.Cleanup(hc.CloseIdleConnections)
	cfg := onecard.Config{
		URL: e.srv.URL(), BillURL: e.srv.BillURL(), AppKey: onecardtest.TestAppKey,
		Cipher: cipher, PrivateKey: clientPriv, PlatformKey: &platformPriv.PublicKey,
		Location: e.srv.Location(), HTTPClient: hc, Now: e.clock.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := onecard.New(cfg)
	require.NoError(t, err)
	return c
}

func payReq(orderNo, account string, amount money.Fen) onecard.PayRequest {
	return onecard.PayRequest{
		OrderNo: orderNo, Account: account, AccType: onecard.AccTypeCard, MercAcc: "100000",
		Amount: amount, Remark: "午餐", Attach: "kiosk-17", TermID: "17",
	}
}

func refundReq(orderNo, original, account string, amount money.Fen) onecard.RefundRequest {
	return onecard.RefundRequest{
		OrderNo: orderNo, RefundOrderNo: original, Account: account, AccType: onecard.AccTypeCard,
		MercAcc: "100000", Amount: amount, TermID: "17",
	}
}

func (e *env) pay(t *testing.T, orderNo, account string, amount money.Fen) (onecard.PayResult, error) {
	t.Helper()
	return e.c.Pay(t.Context(), e.tok, payReq(orderNo, account, amount))
}

func (e *env) mustPay(t *testing.T, orderNo, account string, amount money.Fen) onecard.PayResult {
	t.Helper()
	r, err := e.pay(t, orderNo, account, amount)
	require.NoError(t, err)
	return r
}

func (e *env) refund(t *testing.T, orderNo, original, account string, amount money.Fen) (onecard.RefundResult, error) {
	t.Helper()
	return e.c.Refund(t.Context(), e.tok, refundReq(orderNo, original, account, amount))
}

func (e *env) balance(t *testing.T, account string) money.Fen {
	t.Helper()
	b, ok := e.srv.Balance(account)
	require.True(t, ok, "account %s", account)
	return b
}

// requireBusiness asserts a declined business error with the retcode.
func requireBusiness(t *testing.T, err error, retcode string) {
	t.Helper()
	var be *onecard.BusinessError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, retcode, be.Retcode, "errmsg %q", be.Msg)
	assert.True(t, onecard.Declined(err))
	assert.False(t, onecard.OutcomeUnknown(err))
}

// requireSystem asserts a system-layer refusal with the errcode.
func requireSystem(t *testing.T, err error, errcode string) {
	t.Helper()
	var se *onecard.SystemError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, errcode, se.Code)
	assert.True(t, onecard.Declined(err), "a 400xx refusal is definite")
}

// observed collects a client's calls (Config.Observe).
type observed struct {
	mu    sync.Mutex
	calls []onecard.CallInfo
}

func (o *observed) on(cfg *onecard.Config) {
	cfg.Observe = func(ci onecard.CallInfo) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.calls = append(o.calls, ci)
	}
}

func (o *observed) all() []onecard.CallInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}

func TestSimAccessToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := t.Context()

	_, err := e.c.AccessToken(ctx)
	requireBusiness(t, err, onecard.RetcodeIntervalTooShort)

	e.clock.Advance(2*time.Minute + time.Second)
	tok2, err := e.c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour, tok2.ExpiresIn)
	assert.NotEqual(t, e.tok, tok2.Value)

	// The first token was voided by the second.
	_, err = e.c.QueryCard(ctx, e.tok, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
	requireSystem(t, err, onecard.ErrcodeTokenInvalid)
	var se *onecard.SystemError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.TokenInvalid())

	_, err = e.c.QueryCard(ctx, tok2.Value, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
	require.NoError(t, err)

	// Expiry is on the platform's clock.
	e.clock.Advance(2 * time.Hour)
	_, err = e.c.QueryCard(ctx, tok2.Value, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
	requireSystem(t, err, onecard.ErrcodeTokenInvalid)

	st := e.srv.Stats()
	assert.Equal(t, 3, st.TokenCalls)
	assert.Equal(t, 2, st.TokensIssued)
	assert.Equal(t, 2, st.SystemErrors[onecard.ErrcodeTokenInvalid])
}

func TestSimQueryCard(t *testing.T) {
	t.Parallel()
	e := setup(t)
	demo := map[string]sim.Card{}
	for _, c := range sim.DemoCards() {
		demo[c.Account] = c
	}
	normal, barcode := demo[sim.DemoNormal], demo[sim.DemoBarcode]

	tests := []struct {
		idtype, id string
		want       []string
	}{
		{"acc", normal.Account, []string{sim.DemoNormal}},
		{"sno", normal.SNo, []string{sim.DemoNormal}},
		{"id", normal.Cert, []string{sim.DemoNormal}},
		{"phone", normal.Phone, []string{sim.DemoNormal}},
		{"cardid", normal.CardID, []string{sim.DemoNormal}},
		{"barcode", barcode.Barcode, []string{sim.DemoBarcode}},
		// One person, an old lost card and a new one.
		{"sno", barcode.SNo, []string{sim.DemoLost, sim.DemoBarcode}},
	}
	for _, tt := range tests {
		t.Run(tt.idtype+"="+tt.id, func(t *testing.T) {
			cards, err := e.c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: tt.idtype, ID: tt.id})
			require.NoError(t, err)
			var got []string
			for _, c := range cards {
				got = append(got, c.Account)
			}
			assert.Equal(t, tt.want, got)
		})
	}

	cards, err := e.c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "acc", ID: normal.Account, GetMerge: true})
	require.NoError(t, err)
	require.Len(t, cards, 1)
	c := cards[0]
	assert.Equal(t, onecard.Card{
		Account: normal.Account, Name: "张三", Balance: 100_00, HasIdentity: true,
		CreateDate: "20240901", ExpDate: "20280731", CardType: "1", CardName: "学生卡",
		SNo: normal.SNo, Phone: normal.Phone, CertType: "001", Cert: normal.Cert,
		AutoTransFlag: "0", MSCard: "0", SCardNum: "0", MergeFlag: "0",
	}, c)

	flags := []struct {
		account                string
		lost, frozen, barcodes bool
	}{
		{sim.DemoLost, true, false, false},
		{sim.DemoFrozen, false, true, false},
		{sim.DemoBarcode, false, false, true},
	}
	for _, f := range flags {
		cards, err := e.c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "acc", ID: f.account})
		require.NoError(t, err)
		require.Len(t, cards, 1)
		assert.Equal(t, f.lost, cards[0].Lost, f.account)
		assert.Equal(t, f.frozen, cards[0].Frozen, f.account)
		assert.Equal(t, f.barcodes, cards[0].BarcodeEnabled, f.account)
	}

	_, err = e.c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "cardid", ID: "0000000000"})
	requireBusiness(t, err, onecard.RetcodeAccountNotFound)
}

func TestSimPay(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.mustPay(t, "P-0001", sim.DemoNormal, 10_00)
	assert.Equal(t, "P-0001", r.OrderNo)
	assert.Equal(t, sim.DemoNormal, r.Account)
	assert.Equal(t, onecard.AccTypeCard, r.AccType)
	assert.Equal(t, "100000", r.MercAcc)
	assert.Equal(t, money.Fen(10_00), r.Amount)
	assert.NotEmpty(t, r.OutID)
	assert.LessOrEqual(t, len(r.OutID), 24)
	assert.Equal(t, money.Fen(90_00), e.balance(t, sim.DemoNormal))

	tx, ok := e.srv.Order("P-0001")
	require.True(t, ok)
	assert.Equal(t, sim.KindPay, tx.Kind)
	assert.Equal(t, onecard.StatusPaid, tx.Status)
	assert.Equal(t, r.OutID, tx.OutID)
	assert.True(t, tx.Time.Equal(baseTime))

	r2 := e.mustPay(t, "P-0002", sim.DemoNormal, 1)
	assert.NotEqual(t, r.OutID, r2.OutID, "out_id is unique")
	assert.Equal(t, 2, e.srv.Stats().Charges)
}

func TestSimPayDeclined(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name, account, acctype string
		amount                 money.Fen
		retcode                string
	}{
		{"insufficient", sim.DemoLow, "###", 51, onecard.RetcodeInsufficient},
		{"lost", sim.DemoLost, "###", 1_00, onecard.RetcodeCardLost},
		{"frozen", sim.DemoFrozen, "###", 1_00, onecard.RetcodeFrozen},
		{"unknown account", "999999", "###", 1_00, onecard.RetcodeAccountNotFound},
		{"electronic account type", sim.DemoNormal, "001", 1_00, onecard.RetcodeAccountNotFound},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orderNo := fmt.Sprintf("D-%04d", i)
			before, _ := e.srv.Balance(tt.account)
			req := payReq(orderNo, tt.account, tt.amount)
			req.AccType = tt.acctype
			_, err := e.c.Pay(t.Context(), e.tok, req)
			requireBusiness(t, err, tt.retcode)
			after, _ := e.srv.Balance(tt.account)
			assert.Equal(t, before, after, "balance untouched")

			// A declined pay is a failed order and burns its number.
			st, err := e.c.QueryPayments(t.Context(), e.tok, []onecard.PayQuery{{Account: tt.account, AccType: tt.acctype, OrderNo: orderNo}})
			require.NoError(t, err)
			assert.Equal(t, onecard.StatusFailed, st[0].Status)
			_, err = e.pay(t, orderNo, sim.DemoRich, 1)
			requireBusiness(t, err, onecard.RetcodeDuplicateOrder)
		})
	}
	assert.Zero(t, e.srv.Stats().Charges)
}

func TestSimDuplicateOrderChargedOnce(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.mustPay(t, "DUP-1", sim.DemoNormal, 10_00)
	_, err := e.pay(t, "DUP-1", sim.DemoNormal, 10_00)
	requireBusiness(t, err, onecard.RetcodeDuplicateOrder)
	assert.Equal(t, money.Fen(90_00), e.balance(t, sim.DemoNormal))

	// Concurrent reuse of one new number: exactly one charge.
	var wg sync.WaitGroup
	var okCount, dupCount atomic.Int32
	for range 8 {
		wg.Go(func() {
			_, err := e.c.Pay(context.Background(), e.tok, payReq("DUP-2", sim.DemoNormal, 1_00))
			var be *onecard.BusinessError
			switch {
			case err == nil:
				okCount.Add(1)
			case errors.As(err, &be) && be.Retcode == onecard.RetcodeDuplicateOrder:
				dupCount.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), okCount.Load())
	assert.Equal(t, int32(7), dupCount.Load())
	assert.Equal(t, money.Fen(89_00), e.balance(t, sim.DemoNormal))
	assert.Equal(t, 2, e.srv.Stats().Charges)
}

func TestSimConcurrentPaysNeverOverdraw(t *testing.T) {
	t.Parallel()
	e := setup(t, func(o *sim.Options) {
		o.Cards = []sim.Card{{Account: "200001", Balance: 10_00}}
	})
	var wg sync.WaitGroup
	var okCount, poorCount atomic.Int32
	for i := range 16 {
		wg.Go(func() {
			_, err := e.c.Pay(context.Background(), e.tok, payReq(fmt.Sprintf("C-%02d", i), "200001", 1_00))
			var be *onecard.BusinessError
			switch {
			case err == nil:
				okCount.Add(1)
			case errors.As(err, &be) && be.Retcode == onecard.RetcodeInsufficient:
				poorCount.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(10), okCount.Load())
	assert.Equal(t, int32(6), poorCount.Load())
	assert.Zero(t, e.balance(t, "200001"))
}

func TestSimRefund(t *testing.T) {
	t.Parallel()
	e := setup(t)
	acc := sim.DemoNormal
	e.mustPay(t, "ORIG-1", acc, 30_00)
	require.Equal(t, money.Fen(70_00), e.balance(t, acc))

	r, err := e.refund(t, "REF-1", "ORIG-1", acc, 10_00)
	require.NoError(t, err)
	assert.Equal(t, onecard.RefundResult{
		OrderNo: "REF-1", RefundOrderNo: "ORIG-1", Account: acc, AccType: "###",
		MercAcc: "100000", Amount: 10_00, OutID: r.OutID,
	}, r)
	assert.NotEmpty(t, r.OutID)
	assert.Equal(t, money.Fen(80_00), e.balance(t, acc))
	orig, _ := e.srv.Order("ORIG-1")
	assert.Equal(t, onecard.StatusPaid, orig.Status, "partly refunded is still paid")
	assert.Equal(t, money.Fen(10_00), orig.Refunded)

	_, err = e.refund(t, "REF-2", "ORIG-1", acc, 20_01)
	requireBusiness(t, err, onecard.RetcodeRefundTooLarge)
	_, err = e.refund(t, "REF-3", "ORIG-1", acc, 20_00)
	require.NoError(t, err)
	orig, _ = e.srv.Order("ORIG-1")
	assert.Equal(t, onecard.StatusRefunded, orig.Status)
	assert.Equal(t, money.Fen(100_00), e.balance(t, acc))

	_, err = e.refund(t, "REF-4", "ORIG-1", acc, 1)
	requireBusiness(t, err, onecard.RetcodeRefundTooLarge)

	e.mustPay(t, "ORIG-2", acc, 5_00)
	declines := []struct {
		name, orderNo, original, account, retcode string
	}{
		{"unknown original", "REF-5", "NOPE", acc, onecard.RetcodeRecordNotFound},
		{"other account", "REF-6", "ORIG-2", sim.DemoRich, onecard.RetcodeRecordNotFound},
		{"refund of a refund", "REF-7", "REF-1", acc, onecard.RetcodeRecordNotFound},
		{"reused order_no", "ORIG-2", "ORIG-2", acc, onecard.RetcodeDuplicateOrder},
		{"reused refund order_no", "REF-1", "ORIG-2", acc, onecard.RetcodeDuplicateOrder},
	}
	for _, tt := range declines {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.refund(t, tt.orderNo, tt.original, tt.account, 1_00)
			requireBusiness(t, err, tt.retcode)
		})
	}
	assert.Equal(t, money.Fen(95_00), e.balance(t, acc))
	assert.Equal(t, 2, e.srv.Stats().Refunds)
}

func TestSimPayQueryBatch(t *testing.T) {
	t.Parallel()
	e := setup(t)
	acc := sim.DemoNormal
	paid := e.mustPay(t, "Q-PAID", acc, 10_00)
	_, err := e.pay(t, "Q-FAILED", sim.DemoLow, 1_00)
	requireBusiness(t, err, onecard.RetcodeInsufficient)
	e.mustPay(t, "Q-OTHER", acc, 3_00)
	e.mustPay(t, "Q-REFUNDED", acc, 5_00)
	_, err = e.refund(t, "Q-REFUND", "Q-REFUNDED", acc, 5_00)
	require.NoError(t, err)

	e.clock.Advance(time.Hour)
	e.srv.SetProcessingFor(10 * time.Minute)
	e.mustPay(t, "Q-RECENT", acc, 2_00)

	qs := []onecard.PayQuery{
		{Account: acc, AccType: "###", OrderNo: "Q-PAID"},
		{Account: sim.DemoLow, AccType: "###", OrderNo: "Q-FAILED"},
		{Account: acc, AccType: "###", OrderNo: "Q-REFUNDED"},
		{Account: acc, AccType: "###", OrderNo: "Q-REFUND"},
		{Account: acc, AccType: "###", OrderNo: "Q-RECENT"},
		{Account: sim.DemoRich, AccType: "###", OrderNo: "Q-OTHER"}, // another account's order
	}
	want := []onecard.OrderStatus{"60", "77", "80", "60", "20", "78"}
	for i := len(qs); i < onecard.MaxPayQueries; i++ {
		qs = append(qs, onecard.PayQuery{Account: acc, AccType: "###", OrderNo: fmt.Sprintf("Q-NONE-%02d", i)})
		want = append(want, onecard.StatusNoOrder)
	}
	require.Len(t, qs, 50)

	got, err := e.c.QueryPayments(t.Context(), e.tok, qs)
	require.NoError(t, err)
	require.Len(t, got, 50)
	for i, st := range got {
		assert.Equal(t, qs[i].OrderNo, st.OrderNo)
		assert.Equal(t, want[i], st.Status, "order %s: %s", st.OrderNo, st.Desc)
	}
	assert.Equal(t, paid.OutID, got[0].OutID)
	assert.Equal(t, money.Fen(10_00), got[0].Amount)
	assert.Equal(t, money.Fen(1_00), got[1].Amount)

	var re *onecard.RequestError
	_, err = e.c.QueryPayments(t.Context(), e.tok, append(qs, onecard.PayQuery{Account: acc, AccType: "###", OrderNo: "Q-51"}))
	assert.ErrorAs(t, err, &re, "51 orders are refused before sending")
	_, err = e.c.QueryPayments(t.Context(), e.tok, []onecard.PayQuery{qs[0], {Account: sim.DemoRich, AccType: "###", OrderNo: "Q-PAID"}})
	assert.ErrorAs(t, err, &re, "an order_no asked twice could take the other's answer")

	e.srv.SetProcessingFor(0)
	got, err = e.c.QueryPayments(t.Context(), e.tok, qs[4:5])
	require.NoError(t, err)
	assert.Equal(t, onecard.StatusPaid, got[0].Status)
}

func TestSimDownloadBill(t *testing.T) {
	t.Parallel()
	// The day before, one minute to midnight on the platform (15:59 UTC).
	e := setupAt(t, time.Date(2024, 5, 11, 23, 59, 0, 0, shanghai))
	acc := sim.DemoNormal
	e.mustPay(t, "B-YESTERDAY", acc, 7_00)
	e.clock.Advance(2 * time.Minute) // 2024-05-12 00:01 in Shanghai, still the 11th in UTC

	e.mustPay(t, "B-1", acc, 10_00)
	_, err := e.pay(t, "B-2", sim.DemoLow, 1_00)
	requireBusiness(t, err, onecard.RetcodeInsufficient)
	e.mustPay(t, "B-3", acc, 30_00)
	_, err = e.refund(t, "B-R1", "B-3", acc, 12_50)
	require.NoError(t, err)
	_, err = e.refund(t, "B-R2", "B-3", acc, 50_00)
	requireBusiness(t, err, onecard.RetcodeRefundTooLarge)

	tests := []struct {
		typ       string
		encrypted bool
		orders    []string
		total     money.Fen
	}{
		{onecard.BillAll, false, []string{"B-1", "B-2", "B-3", "B-R1", "B-R2"}, 103_50},
		{onecard.BillAll, true, []string{"B-1", "B-2", "B-3", "B-R1", "B-R2"}, 103_50},
		{onecard.BillSuccess, false, []string{"B-1", "B-3", "B-R1"}, 52_50},
		{onecard.BillSuccess, true, []string{"B-1", "B-3", "B-R1"}, 52_50},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/crypt=%v", tt.typ, tt.encrypted), func(t *testing.T) {
			bill, text, err := e.c.DownloadBill(t.Context(), e.tok, onecard.BillRequest{Date: "20240512", Type: tt.typ, Encrypted: tt.encrypted})
			require.NoError(t, err)
			assert.True(t, bytes.HasPrefix(text, []byte("#"+onecard.BillHeader)))
			assert.Equal(t, len(tt.orders), bill.Count)
			assert.Equal(t, tt.total, bill.Total)
			var orders []string
			for _, r := range bill.Rows {
				orders = append(orders, r.OrderNo)
				assert.Equal(t, "20240512000100", r.Time.Format(onecard.BillTimeLayout), "platform wall time")
			}
			assert.Equal(t, tt.orders, orders)
		})
	}

	bill, _, err := e.c.DownloadBill(t.Context(), e.tok, onecard.BillRequest{Date: "20240512", Type: onecard.BillAll})
	require.NoError(t, err)
	byOrder := map[string]onecard.BillRow{}
	for _, r := range bill.Rows {
		byOrder[r.OrderNo] = r
	}
	b3, _ := e.srv.Order("B-3")
	assert.Equal(t, onecard.BillRow{
		Time: byOrder["B-3"].Time, Account: acc, AccType: "###", MercAcc: "100000", OutID: b3.OutID,
		OrderNo: "B-3", Type: onecard.BillTypePay, Status: "60", Amount: 30_00, Attach: "kiosk-17",
	}, byOrder["B-3"])
	assert.Equal(t, onecard.BillTypeRefund, byOrder["B-R1"].Type)
	assert.Equal(t, "77", byOrder["B-R2"].Status)
	assert.Equal(t, "77", byOrder["B-2"].Status)

	yesterday, _, err := e.c.DownloadBill(t.Context(), e.tok, onecard.BillRequest{Date: "20240511", Type: onecard.BillAll})
	require.NoError(t, err)
	require.Len(t, yesterday.Rows, 1)
	assert.Equal(t, "B-YESTERDAY", yesterday.Rows[0].OrderNo)

	_, _, err = e.c.DownloadBill(t.Context(), e.tok, onecard.BillRequest{Date: "20240513", Type: onecard.BillAll})
	requireBusiness(t, err, onecard.RetcodeRecordNotFound)
}

func TestSimSystemErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, platformPriv, _ := onecardtest.TestKeys()
	query := onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal}

	t.Run("clock 10m ahead", func(t *testing.T) {
		e.srv.SetClockOffset(10 * time.Minute)
		defer e.srv.SetClockOffset(0)
		_, err := e.c.QueryCard(t.Context(), e.tok, query)
		requireSystem(t, err, onecard.ErrcodeBadTimestamp)
	})
	t.Run("clock 5m behind is tolerated", func(t *testing.T) {
		e.srv.SetClockOffset(-5 * time.Minute)
		defer e.srv.SetClockOffset(0)
		_, err := e.c.QueryCard(t.Context(), e.tok, query)
		require.NoError(t, err)
	})
	t.Run("foreign signing key", func(t *testing.T) {
		c := e.client(t, func(cfg *onecard.Config) { cfg.PrivateKey = platformPriv })
		_, err := c.QueryCard(t.Context(), e.tok, query)
		requireSystem(t, err, onecard.ErrcodeBadSign)
	})
	t.Run("unknown app key", func(t *testing.T) {
		c := e.client(t, func(cfg *onecard.Config) { cfg.AppKey = "someone-else" })
		_, err := c.QueryCard(t.Context(), e.tok, query)
		requireSystem(t, err, "40002")
	})
	t.Run("down.bill on the main path", func(t *testing.T) {
		c := e.client(t, func(cfg *onecard.Config) { cfg.BillURL = e.srv.URL() })
		_, _, err := c.DownloadBill(t.Context(), e.tok, onecard.BillRequest{Date: "20240512", Type: onecard.BillAll})
		requireSystem(t, err, "40012")
	})
}

// TestSimTimezone checks that request timestamps are written in the
// platform's zone whatever zone the client's clock reports in: the
// simulator runs on the real clock in Asia/Shanghai.
func TestSimTimezone(t *testing.T) {
	t.Parallel()
	srv, c := onecardtest.NewTestPair(t)
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	e := &env{srv: srv, clock: onecardtest.NewClock(time.Time{})}
	tests := []struct {
		name     string
		loc      *time.Location
		now      func() time.Time
		wantCode string
	}{
		{"UTC clock", shanghai, func() time.Time { return time.Now().UTC() }, ""},
		{"New York clock", shanghai, func() time.Time { return time.Now().In(mustLocation("America/New_York")) }, ""},
		{"UTC+14 clock", shanghai, func() time.Time { return time.Now().In(time.FixedZone("LINT", 14*3600)) }, ""},
		{"client told the wrong zone", time.UTC, time.Now, onecard.ErrcodeBadTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client(t, func(cfg *onecard.Config) { cfg.Location, cfg.Now = tt.loc, tt.now })
			_, err := c.QueryCard(t.Context(), tok.Value, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
			if tt.wantCode == "" {
				require.NoError(t, err)
				return
			}
			requireSystem(t, err, tt.wantCode)
		})
	}
}

// tamperProxy forwards to the simulator and changes each reply with
// tamper, as a man in the middle would.
func tamperProxy(t *testing.T, target string, tamper func(r onecard.Reply) []byte) string {
	t.Helper()
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		resp, err := http.Post(target, r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		rep, err := onecard.ParseReply("", resp.StatusCode, rb)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = w.Write(tamper(rep))
	}))
	t.Cleanup(p.Close)
	return p.URL + "/tsm"
}

func TestSimTamperedReply(t *testing.T) {
	t.Parallel()
	e := setup(t)
	_, _, secret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(secret)
	require.NoError(t, err)
	var richer atomic.Bool

	tests := []struct {
		name   string
		tamper func(r onecard.Reply) []byte
	}{
		{"balance raised, signature kept", func(r onecard.Reply) []byte {
			plain, _ := cipher.Decrypt(r.Request)
			changed := bytes.Replace(plain, []byte(`"db_balance":"10000"`), []byte(`"db_balance":"99999"`), 1)
			richer.Store(!bytes.Equal(plain, changed))
			body, _ := onecard.EncodeReply(r.Errcode, cipher.Encrypt(changed), true, nil)
			return append(body, "&sign="+url.QueryEscape(r.Sign)...)
		}},
		{"signature stripped", func(r onecard.Reply) []byte {
			body, _ := onecard.EncodeReply(r.Errcode, r.Request, r.HasRequest, nil)
			return body
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := tamperProxy(t, e.srv.URL(), tt.tamper)
			c := e.client(t, func(cfg *onecard.Config) { cfg.URL = proxy })
			_, err := c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
			var se *onecard.SignatureError
			require.ErrorAs(t, err, &se)
			assert.ErrorIs(t, err, onecard.ErrBadSignature)
			assert.True(t, onecard.OutcomeUnknown(err))
		})
	}
	assert.True(t, richer.Load(), "the tamperer found the balance to change")
}

// TestSimFaults checks that each transport fault reaches the caller as the
// error type that tells it what it may assume about the payment.
//
// garbage comes back as a *TextError, not a *DecodeError: the client reads
// any 200 body that does not start with "errcode=" as the bare-text error
// some deployments send (NOTES, "Response envelope"); DecodeError is for a
// body that claims to be an envelope and is malformed.
func TestSimFaults(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, err error)
	transport := func(sent bool, status int) check {
		return func(t *testing.T, err error) {
			var te *onecard.TransportError
			require.ErrorAs(t, err, &te)
			if sent {
				assert.True(t, te.Sent)
			}
			assert.Equal(t, status, te.Status)
		}
	}
	tests := []struct {
		fault   sim.Fault
		timeout time.Duration
		check   check
		charged bool
	}{
		{fault: sim.Fault{Kind: sim.FaultDropRequest}, check: transport(false, 0)},
		{fault: sim.Fault{Kind: sim.FaultDropReply}, check: transport(true, 0), charged: true},
		{fault: sim.Fault{Kind: sim.FaultDelay, Delay: time.Minute}, timeout: 500 * time.Millisecond, check: transport(true, 0)},
		{fault: sim.Fault{Kind: sim.FaultHTTP500}, check: func(t *testing.T, err error) {
			transport(true, http.StatusInternalServerError)(t, err)
			var txt *onecard.TextError
			require.ErrorAs(t, err, &txt, "the error page's text is kept")
			assert.Equal(t, sim.InternalErrorText, txt.Text)
		}},
		{fault: sim.Fault{Kind: sim.FaultHTTP500, AfterCommit: true}, check: transport(true, http.StatusInternalServerError), charged: true},
		{fault: sim.Fault{Kind: sim.FaultGarbage}, check: func(t *testing.T, err error) {
			var txt *onecard.TextError
			require.ErrorAs(t, err, &txt)
			assert.Equal(t, http.StatusOK, txt.Status)
		}},
		{fault: sim.Fault{Kind: sim.FaultBadSignature}, check: func(t *testing.T, err error) {
			var se *onecard.SignatureError
			require.ErrorAs(t, err, &se)
		}, charged: true},
		{fault: sim.Fault{Kind: sim.FaultText}, check: func(t *testing.T, err error) {
			var txt *onecard.TextError
			require.ErrorAs(t, err, &txt)
			assert.Equal(t, sim.BusyText, txt.Text, "GBK decoded to UTF-8")
		}},
		{fault: sim.Fault{Kind: sim.FaultText, AfterCommit: true}, check: func(t *testing.T, err error) {
			var txt *onecard.TextError
			require.ErrorAs(t, err, &txt)
		}, charged: true},
	}
	for _, tt := range tests {
		name := string(tt.fault.Kind)
		if tt.fault.AfterCommit {
			name += "/after-commit"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			c := e.c
			if tt.timeout != 0 {
				c = e.client(t, func(cfg *onecard.Config) { cfg.HTTPClient = onecard.NewHTTPClient(tt.timeout, nil) })
			}
			f := tt.fault
			f.Method, f.Times = onecard.MethodPay, 1
			e.srv.InjectFault(f)

			_, err := c.Pay(t.Context(), e.tok, payReq("F-1", sim.DemoNormal, 10_00))
			require.Error(t, err)
			tt.check(t, err)
			assert.True(t, onecard.OutcomeUnknown(err), "the client cannot know: %v", err)
			assert.False(t, onecard.Declined(err))

			st := e.srv.Stats()
			assert.Equal(t, 1, st.FaultsFired[tt.fault.Kind])
			assert.Empty(t, e.srv.Faults(), "Times: 1 is used up")
			_, recorded := e.srv.Order("F-1")
			if tt.charged {
				assert.True(t, recorded)
				assert.Equal(t, 1, st.Charges)
				assert.Equal(t, money.Fen(90_00), e.balance(t, sim.DemoNormal))
			} else {
				assert.False(t, recorded)
				assert.Zero(t, st.Charges)
				assert.Equal(t, money.Fen(100_00), e.balance(t, sim.DemoNormal))
			}

			// What pay.query says settles the order either way.
			got, err := e.c.QueryPayments(t.Context(), e.tok, []onecard.PayQuery{{Account: sim.DemoNormal, AccType: "###", OrderNo: "F-1"}})
			require.NoError(t, err)
			if tt.charged {
				assert.Equal(t, onecard.StatusPaid, got[0].Status)
			} else {
				assert.Equal(t, onecard.StatusNoOrder, got[0].Status)
			}
		})
	}
}

func TestSimFaultDelayWithinTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.srv.InjectFault(sim.Fault{Kind: sim.FaultDelay, Delay: 20 * time.Millisecond, Times: 1})
	start := time.Now()
	_, err := e.pay(t, "DL-1", sim.DemoNormal, 1_00)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

// BenchmarkPayRoundTrip measures one complete Pay: build, encrypt and sign
// the request, HTTP over loopback, the simulator's checks and ledger,
// signed encrypted reply, verification and decoding.
func BenchmarkPayRoundTrip(b *testing.B) {
	clock := onecardtest.NewClock(baseTime)
	srv, c := onecardtest.NewTestPair(b, func(o *sim.Options) {
		o.Now = clock.Now
		o.Cards = []sim.Card{{Account: "300001", Balance: 9_999_999_999}}
	})
	ctx := context.Background()
	tok, err := c.AccessToken(ctx)
	require.NoError(b, err)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := c.Pay(ctx, tok.Value, payReq(fmt.Sprintf("BENCH-%d", i), "300001", 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	assert.Equal(b, i, srv.Stats().Charges)
}

// Observe sees every call once, with the platform's code on failure.
func TestSimObserve(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var calls observed
	c := e.client(t, calls.on)
	_, err := c.AccessToken(t.Context())
	requireBusiness(t, err, onecard.RetcodeIntervalTooShort)
	_, err = c.Pay(t.Context(), e.tok, payReq("O-0001", sim.DemoNormal, 1_00))
	require.NoError(t, err)
	_, err = c.Pay(t.Context(), e.tok, payReq("O-0002", sim.DemoLost, 1_00))
	requireBusiness(t, err, onecard.RetcodeCardLost)
	_, err = c.Pay(t.Context(), e.tok, payReq("", sim.DemoNormal, 1_00))
	require.Error(t, err, "refused before sending, still observed")

	seen := calls.all()
	require.Len(t, seen, 4)
	assert.Equal(t, onecard.MethodAccessToken, seen[0].Method)
	assert.Equal(t, onecard.RetcodeIntervalTooShort, onecard.ErrorCode(seen[0].Err))
	assert.Equal(t, onecard.MethodPay, seen[1].Method)
	assert.NoError(t, seen[1].Err)
	assert.Equal(t, onecard.RetcodeCardLost, onecard.ErrorCode(seen[2].Err))
	assert.True(t, onecard.Declined(seen[2].Err))
	assert.Error(t, seen[3].Err)
	for _, ci := range seen[:3] {
		assert.Positive(t, ci.Duration, ci.Method)
	}
}
