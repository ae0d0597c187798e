package sim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// RetcodeBadField is the retcode the simulator answers when a request
// field breaks the spec's rules (type, length, value set). The spec names
// no business code for that; this one borrows the system layer's "data
// format error" so that it reads as what it is.
const RetcodeBadField = "40015"

// errmsgs are the Chinese messages a platform writes, with English after.
var errmsgs = map[string]string{
	onecard.RetcodeOK:               "操作成功",
	onecard.RetcodeAccountNotFound:  "账户不存在 (account not found)",
	onecard.RetcodeCardLost:         "卡已挂失 (card reported lost)",
	onecard.RetcodeInsufficient:     "余额不足 (insufficient balance)",
	onecard.RetcodeFrozen:           "账户已冻结 (account frozen)",
	onecard.RetcodeRecordNotFound:   "记录不存在 (record not found)",
	onecard.RetcodeDuplicateOrder:   "订单号重复 (duplicate order number)",
	onecard.RetcodeOrderExists:      "订单已存在 (order already exists)",
	onecard.RetcodeIntervalTooShort: "获取令牌间隔太短 (token interval too short)",
	onecard.RetcodeRefundTooLarge:   "退款金额超过原交易可退金额 (refund exceeds the payment)",
}

// DuplicateReplay is the Options.DuplicateReply that answers a resend of
// the same request with its recorded outcome.
const DuplicateReplay = "replay"

// ValidateDuplicateReply reports whether v is a valid
// Options.DuplicateReply.
func ValidateDuplicateReply(v string) error {
	switch v {
	case "", onecard.RetcodeDuplicateOrder, onecard.RetcodeOrderExists, DuplicateReplay:
		return nil
	}
	return fmt.Errorf("%q is none of %s, %s, %s", v, onecard.RetcodeDuplicateOrder, onecard.RetcodeOrderExists, DuplicateReplay)
}

// ValidateRetcode reports whether v can be a refusal's retcode, as
// Options.WrongPasswordRetcode: 1 to 8 digits without a leading zero, not
// "0" (success).
func ValidateRetcode(v string) error {
	ok := v != "" && len(v) <= 8 && v[0] != '0'
	for i := 0; ok && i < len(v); i++ {
		ok = '0' <= v[i] && v[i] <= '9'
	}
	if !ok {
		return fmt.Errorf("%q is not a refusal's retcode: 1 to 8 digits, no leading zero, not %s", onecard.Truncate(v, 16), onecard.RetcodeOK)
	}
	return nil
}

// errmsgWrongPassword is the errmsg of a wrong pwd answered with a retcode
// other than 60003, which keeps its own.
const errmsgWrongPassword = "密码错误 (wrong password)"

// maxErrmsg is errmsg's String(128).
const maxErrmsg = 128

// result is a business reply before encoding.
type result struct {
	retcode string
	errmsg  string
	fields  map[string]any
	raw     []byte // down.bill success: the bill body
	note    string // for the log
}

func ok(fields map[string]any) result { return result{retcode: onecard.RetcodeOK, fields: fields} }

func declined(code string) result { return result{retcode: code} }

func badField(why string) result {
	return result{retcode: RetcodeBadField, errmsg: "数据格式错误 (bad field): " + why}
}

// business dispatches a request that passed the system layer; s.mu is held.
func (s *Server) business(method, key string, params map[string]json.RawMessage, now time.Time) reply {
	p := s.newParams(params)
	var res result
	switch method {
	case onecard.MethodAccessToken:
		res = s.issueToken(p, now)
	case onecard.MethodQueryCard:
		res = s.queryCard(p)
	case onecard.MethodPay:
		res = s.pay(p, now)
	case onecard.MethodRefund:
		res = s.refund(p, now)
	case onecard.MethodPayQuery:
		res = s.payQuery(p, now)
	case onecard.MethodDownBill:
		res = s.downBill(p, now)
	}
	if res.raw != nil {
		return reply{errcode: onecard.ErrcodeOK, retcode: onecard.RetcodeOK, raw: res.raw}
	}
	obj := map[string]any{}
	for k, v := range res.fields {
		obj[k] = v
	}
	msg := res.errmsg
	if msg == "" {
		msg = errmsgs[res.retcode]
	}
	obj["retcode"] = res.retcode
	obj["errmsg"] = onecard.Truncate(msg, maxErrmsg-len("…"))
	inner, err := json.Marshal(map[string]any{key: obj})
	if err != nil {
		// Only strings, slices and maps of them are marshalled here.
		panic("sim: reply JSON: " + err.Error())
	}
	note := res.note
	if res.retcode == RetcodeBadField {
		note += " (" + res.errmsg + ")"
	}
	if len(p.ignored) > 0 {
		note += " (ignored fields v2.42 does not list: " + quoteNames(p.ignored) + ")"
	}
	return reply{errcode: onecard.ErrcodeOK, retcode: res.retcode, inner: inner, note: note}
}

// maxNamesLogged bounds how many ignored field names one log line quotes:
// a batch of 50 queries could carry the same stray field 50 times.
const maxNamesLogged = 5

// quoteNames lists client-chosen field names for the log, quoted and cut
// short so that a name cannot forge a log line or flood it.
func quoteNames(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i == maxNamesLogged {
			fmt.Fprintf(&b, " … (%d in all)", len(names))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", onecard.Truncate(n, 40))
	}
	return b.String()
}

// paramReader reads the members of a request object strictly, keeping the
// first problem.
type paramReader struct {
	m    map[string]json.RawMessage
	used map[string]bool
	err  string
	// strict makes finish refuse the members no reader asked for
	// (Options.Strict); otherwise finish lists them in ignored.
	strict  bool
	ignored []string
}

// newParams returns a reader of one request object under the server's
// Options.Strict.
func (s *Server) newParams(m map[string]json.RawMessage) *paramReader {
	return &paramReader{m: m, used: map[string]bool{}, strict: s.opts.Strict}
}

func (p *paramReader) fail(format string, args ...any) {
	if p.err == "" {
		p.err = fmt.Sprintf(format, args...)
	}
}

// str reads a string field of at most max bytes.
func (p *paramReader) str(name string, max int, required bool) string {
	p.used[name] = true
	raw, present := p.m[name]
	if !present {
		if required {
			p.fail("%s missing", name)
		}
		return ""
	}
	var v string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		p.fail("%s must be a JSON string", name)
		return ""
	}
	switch {
	case required && v == "":
		p.fail("%s must not be empty", name)
	case len(v) > max:
		p.fail("%s is %d bytes, at most %d", name, len(v), max)
	case hasControl(v):
		p.fail("%s holds a control character", name)
	}
	return v
}

// amount reads tranamt: yuan with 0–2 decimals, at least 0.01.
func (p *paramReader) amount(name string) money.Fen {
	v := p.str(name, 16, true)
	if v == "" {
		return 0
	}
	a, err := money.ParseYuan(v)
	switch {
	case err != nil:
		p.fail("%s %q is not yuan with at most two decimals", name, onecard.Truncate(v, 16))
	case a < 1:
		p.fail("%s must be at least 0.01", name)
	}
	return a
}

// termid reads the optional terminal number, 1–9999 in canonical digits.
func (p *paramReader) termid() string {
	v := p.str("termid", 10, false)
	if v == "" {
		return ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 9999 || strconv.Itoa(n) != v {
		p.fail("termid %q is not a number from 1 to 9999", onecard.Truncate(v, 10))
	}
	return v
}

// flag reads an optional switch such as get_merge: "1" is on, absent, ""
// or "0" off, anything else a problem.
func (p *paramReader) flag(name string) bool {
	v := p.str(name, 1, false)
	if v != "" && v != "0" && v != "1" {
		p.fail("%s %q is neither 0 nor 1", name, v)
	}
	return v == "1"
}

// oneOf reads a required field that must take one of the values.
func (p *paramReader) oneOf(name string, max int, values ...string) string {
	v := p.str(name, max, true)
	if v == "" {
		return ""
	}
	for _, x := range values {
		if v == x {
			return v
		}
	}
	p.fail("%s %q is not one of %v", name, onecard.Truncate(v, 16), values)
	return v
}

// finish deals with the members the method does not have, in name order
// so that the first one named is always the same: under strict it refuses
// them, else it lists them in ignored. It returns the first problem (""
// when none).
func (p *paramReader) finish() string {
	for _, name := range slices.Sorted(maps.Keys(p.m)) {
		switch {
		case p.used[name]:
		case p.strict:
			p.fail("unknown field %q", onecard.Truncate(name, 20))
		default:
			p.ignored = append(p.ignored, name)
		}
	}
	return p.err
}

func (s *Server) issueToken(p *paramReader, now time.Time) result {
	if why := p.finish(); why != "" {
		return badField(why)
	}
	s.stats.TokenCalls++
	last := s.token.lastCall
	s.token.lastCall = now
	if !last.IsZero() && now.Sub(last) < s.opts.TokenMinInterval {
		return declined(onecard.RetcodeIntervalTooShort)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	s.token.current = tok
	s.token.expires = now.Add(s.opts.TokenTTL)
	s.token.issued[tok] = true
	s.stats.TokensIssued++
	return ok(map[string]any{
		"access_token": tok,
		"expires_in":   strconv.FormatInt(int64(s.opts.TokenTTL/time.Second), 10),
	})
}

func (s *Server) queryCard(p *paramReader) result {
	idtype := p.oneOf("idtype", 16, onecard.IDTypes...)
	id := p.str("id", 32, true)
	want := cardParts{merge: p.flag("get_merge")}
	pwd := p.str("pwd", 32, false)
	if !p.strict {
		// Left unread under Strict, the extensions are refused by finish
		// like any field v2.42 does not list.
		want.identity = p.flag(ExtIdentity)
		want.accounts = p.flag(ExtAccounts)
		want.schcode = p.flag(ExtSchCode)
		want.cardid = p.flag(ExtCardID)
	}
	if why := p.finish(); why != "" {
		return badField(why)
	}
	var cards []map[string]any
	checked, wrong := false, false
	for _, acc := range s.order {
		c := s.cards[acc]
		if !c.matches(idtype, id) {
			continue
		}
		if pwd != "" && c.Password != "" {
			checked = true
			wrong = wrong || subtle.ConstantTimeCompare([]byte(pwd), []byte(c.Password)) != 1
		}
		cards = append(cards, c.wire(want))
	}
	if checked {
		s.stats.PasswordChecks++
	}
	if wrong {
		// No card leaves with a wrong password: the reply is the
		// retcode and its errmsg only.
		s.stats.PasswordFailures++
		return s.wrongPassword()
	}
	if len(cards) == 0 {
		return declined(onecard.RetcodeAccountNotFound)
	}
	res := ok(map[string]any{"card": cards})
	if ext := want.extensions(); len(ext) > 0 {
		res.note = " (answered " + strings.Join(ext, ", ") + ", beyond v2.42)"
	}
	return res
}

// wrongPassword answers a query.card whose pwd is not the card's
// (Options.WrongPasswordRetcode).
func (s *Server) wrongPassword() result {
	res := result{retcode: s.opts.WrongPasswordRetcode, errmsg: errmsgWrongPassword, note: " (wrong pwd)"}
	if res.retcode == "" || res.retcode == onecard.RetcodeAccountNotFound {
		res.retcode, res.errmsg = onecard.RetcodeAccountNotFound, ""
	}
	return res
}

// nextOutID returns a new platform serial: the date and a sequence number
// that never repeats, 18 characters (out_id is String(24)).
func (s *Server) nextOutID(now time.Time) string {
	s.outSeq++
	return now.In(s.loc).Format("20060102") + fmt.Sprintf("%010d", s.outSeq)
}

// record adds a processed order to the ledger and returns its reply;
// s.mu is held.
func (s *Server) record(tx *Transaction) result {
	s.orders[tx.OrderNo] = tx
	s.txs = append(s.txs, tx)
	return tx.reply()
}

// duplicate answers a pay or refund whose order_no is taken (Options.
// DuplicateReply); dup is false when the order_no is free. s.mu is held.
func (s *Server) duplicate(req *Transaction) (res result, dup bool) {
	rec := s.orders[req.OrderNo]
	if rec == nil {
		return result{}, false
	}
	switch s.opts.DuplicateReply {
	case onecard.RetcodeOrderExists:
		return declined(onecard.RetcodeOrderExists), true
	case DuplicateReplay:
		if rec.sameRequest(req) {
			s.stats.Replays++
			return rec.reply(), true
		}
	}
	return declined(onecard.RetcodeDuplicateOrder), true
}

func (s *Server) pay(p *paramReader, now time.Time) result {
	account := p.str("account", 10, true)
	amount := p.amount("tranamt")
	acctype := p.str("acctype", 3, true)
	mercacc := p.str("mercacc", 10, true)
	remark := p.str("remark", 128, false)
	attach := p.str("attach", 128, false)
	orderNo := p.str("order_no", 32, true)
	termid := p.termid()
	if why := p.finish(); why != "" {
		return badField(why)
	}
	tx := &Transaction{
		Kind: KindPay, OrderNo: orderNo, Account: account, AccType: acctype, MercAcc: mercacc,
		Amount: amount, Time: now, Remark: remark, Attach: attach, TermID: termid,
	}
	if res, dup := s.duplicate(tx); dup {
		return res
	}
	tx.OutID = s.nextOutID(now)
	card := s.cards[account]
	code := onecard.RetcodeOK
	switch {
	case acctype != onecard.AccTypeCard, card == nil:
		code = onecard.RetcodeAccountNotFound
	case card.Lost:
		code = onecard.RetcodeCardLost
	case card.Frozen:
		code = onecard.RetcodeFrozen
	case card.Balance < amount:
		code = onecard.RetcodeInsufficient
	}
	tx.Retcode = code
	if code != onecard.RetcodeOK {
		tx.Status = onecard.StatusFailed
		return s.record(tx)
	}
	card.Balance -= amount
	tx.Status = onecard.StatusPaid
	s.stats.Charges++
	return s.record(tx)
}

func (s *Server) refund(p *paramReader, now time.Time) result {
	account := p.str("account", 10, true)
	amount := p.amount("tranamt")
	acctype := p.str("acctype", 3, true)
	mercacc := p.str("mercacc", 10, true)
	orderNo := p.str("order_no", 32, true)
	orig := p.str("refund_order_no", 32, false)
	typo := p.str("reund_order_no", 32, false) // the spec table's spelling
	termid := p.termid()
	switch {
	case orig == "" && typo == "":
		p.fail("refund_order_no missing")
	case orig == "":
		orig = typo
	case typo != "" && typo != orig:
		p.fail("refund_order_no and reund_order_no differ")
	}
	if why := p.finish(); why != "" {
		return badField(why)
	}
	tx := &Transaction{
		Kind: KindRefund, OrderNo: orderNo, Account: account, AccType: acctype, MercAcc: mercacc,
		Amount: amount, Time: now, RefundOf: orig, TermID: termid,
	}
	if res, dup := s.duplicate(tx); dup {
		return res
	}
	tx.OutID = s.nextOutID(now)
	o := s.orders[orig]
	code := onecard.RetcodeOK
	switch {
	case acctype != onecard.AccTypeCard:
		code = onecard.RetcodeAccountNotFound
	case o == nil || o.Kind != KindPay || o.Account != account || o.MercAcc != mercacc ||
		(o.Status != onecard.StatusPaid && o.Status != onecard.StatusRefunded):
		code = onecard.RetcodeRecordNotFound
	case o.Refunded+amount > o.Amount && !s.opts.RefundsUncapped:
		code = onecard.RetcodeRefundTooLarge
	}
	tx.Retcode = code
	if code != onecard.RetcodeOK {
		tx.Status = onecard.StatusFailed
		return s.record(tx)
	}
	// A successful original implies its card exists: cards are never removed.
	s.cards[account].Balance += amount
	if o.Refunded+amount > o.Amount {
		s.stats.OverRefunds++
	}
	o.Refunded += amount
	if o.Refunded >= o.Amount {
		o.Status = onecard.StatusRefunded
	}
	tx.Status = onecard.StatusPaid
	s.stats.Refunds++
	return s.record(tx)
}

func (s *Server) payQuery(p *paramReader, now time.Time) result {
	p.used["pay_queries"] = true
	var items []json.RawMessage
	raw, present := p.m["pay_queries"]
	switch {
	case !present:
		p.fail("pay_queries missing")
	case len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil:
		p.fail("pay_queries must be a JSON array")
	case len(items) == 0 || len(items) > onecard.MaxPayQueries:
		p.fail("pay_queries has %d items, want 1 to %d", len(items), onecard.MaxPayQueries)
	}
	if why := p.finish(); why != "" {
		return badField(why)
	}
	type query struct{ account, acctype, orderNo string }
	qs := make([]query, len(items))
	for i, it := range items {
		m, err := readObject(it)
		if err != nil {
			return badField(fmt.Sprintf("pay_queries[%d]: %v", i, err))
		}
		ip := s.newParams(m)
		qs[i] = query{ip.str("account", 10, true), ip.str("acctype", 3, true), ip.str("order_no", 32, true)}
		if why := ip.finish(); why != "" {
			return badField(fmt.Sprintf("pay_queries[%d]: %s", i, why))
		}
		for _, name := range ip.ignored {
			p.ignored = append(p.ignored, fmt.Sprintf("pay_queries[%d].%s", i, name))
		}
	}
	processing := time.Duration(s.processingFor.Load())
	out := make([]map[string]string, len(qs))
	for i, q := range qs {
		item := map[string]string{
			"account": q.account, "acctype": q.acctype, "order_no": q.orderNo,
			"tranamt": "", "out_id": "", "retcode": onecard.RetcodeOK, "errmsg": errmsgs[onecard.RetcodeOK],
		}
		tx := s.orders[q.orderNo]
		if tx == nil || tx.Account != q.account || tx.AccType != q.acctype ||
			(tx.Kind == KindRefund && s.opts.QueryForgetsRefunds) {
			item["order_status"] = string(onecard.StatusNoOrder)
			item["order_desc"] = "订单不存在 (no such order)"
			out[i] = item
			continue
		}
		item["tranamt"] = tx.Amount.Yuan()
		item["out_id"] = tx.OutID
		status, desc := tx.Status, tx.describe()
		if now.Sub(tx.Time) < processing {
			status, desc = onecard.StatusProcessing, "正在处理 (processing)"
		}
		item["order_status"] = string(status)
		item["order_desc"] = onecard.Truncate(desc, 100-len("…"))
		out[i] = item
	}
	return ok(map[string]any{"pay_querys": out})
}

func (s *Server) downBill(p *paramReader, now time.Time) result {
	date := p.str("bill_date", 8, true)
	typ := p.oneOf("bill_type", 8, onecard.BillAll, onecard.BillSuccess)
	crypt := p.oneOf("crypt_type", 1, "0", "1")
	day, err := time.ParseInLocation(onecard.BillDateLayout, date, s.loc)
	if date != "" && (err != nil || len(date) != 8) {
		p.fail("bill_date %q is not yyyyMMdd", onecard.Truncate(date, 8))
	}
	if why := p.finish(); why != "" {
		return badField(why)
	}
	today := now.In(s.loc)
	if day.After(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, s.loc)) {
		return result{retcode: onecard.RetcodeRecordNotFound, errmsg: "账单日期在未来 (bill date is in the future)"}
	}
	var rows []onecard.BillRow
	for _, tx := range s.txs {
		t := tx.Time.In(s.loc)
		if t.Format(onecard.BillDateLayout) != date {
			continue
		}
		status := "60"
		if tx.Status == onecard.StatusFailed {
			if typ == onecard.BillSuccess {
				continue
			}
			status = "77"
		}
		kind := onecard.BillTypePay
		if tx.Kind == KindRefund {
			kind = onecard.BillTypeRefund
		}
		rows = append(rows, onecard.BillRow{
			Time: t, Account: tx.Account, AccType: tx.AccType, MercAcc: tx.MercAcc, OutID: tx.OutID,
			OrderNo: tx.OrderNo, Type: kind, Status: status, Amount: tx.Amount, Attach: tx.Attach,
		})
	}
	text := onecard.FormatBill(onecard.BillHeader, rows)
	if crypt == "1" {
		text = []byte(s.cipher.EncryptBill(text))
	}
	return result{retcode: onecard.RetcodeOK, raw: text}
}
