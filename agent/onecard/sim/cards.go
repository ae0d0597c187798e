package sim

import (
	"errors"
	"fmt"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
)

// Card is one card account of the simulated platform. The tags let a card
// list be seeded from a YAML or JSON file (see cmd/onecard-sim); only
// account is required. Balance is in fen, as db_balance is on the wire, so
// that a file never needs a decimal point to mean money.
type Card struct {
	// Account is the one-card account number (at most 10 bytes), the key of
	// pays and refunds.
	Account string `yaml:"account" json:"account"`
	Name    string `yaml:"name,omitempty" json:"name,omitempty"`
	// SNo is the student or staff number (idtype sno).
	SNo string `yaml:"sno,omitempty" json:"sno,omitempty"`
	// CardID is the number a card reader gives for the physical card
	// (idtype cardid). A query.card reply carries it only when asked with
	// the getcardid extension.
	CardID string `yaml:"cardid,omitempty" json:"cardid,omitempty"`
	// Barcode is the payment code a scanner reads from the card holder's
	// phone (idtype barcode); a non-empty value also sets barflag to 1.
	Barcode string `yaml:"barcode,omitempty" json:"barcode,omitempty"`
	Phone   string `yaml:"phone,omitempty" json:"phone,omitempty"`
	// Cert is the identity document number (idtype id); a non-empty value
	// sets idflag to 1.
	Cert     string `yaml:"cert,omitempty" json:"cert,omitempty"`
	CertType string `yaml:"certtype,omitempty" json:"certtype,omitempty"`
	// Balance is db_balance, in fen.
	Balance money.Fen `yaml:"balance_fen" json:"balance_fen"`
	// Unsettled is unsettle_amount, in fen.
	Unsettled money.Fen `yaml:"unsettle_fen,omitempty" json:"unsettle_fen,omitempty"`
	Lost      bool      `yaml:"lost,omitempty" json:"lost,omitempty"`
	Frozen    bool      `yaml:"frozen,omitempty" json:"frozen,omitempty"`
	// CardType and CardName default to "1" and "学生卡".
	CardType string `yaml:"cardtype,omitempty" json:"cardtype,omitempty"`
	CardName string `yaml:"cardname,omitempty" json:"cardname,omitempty"`
	// CreateDate and ExpDate are yyyyMMdd; they default to 20240901 and
	// 20280731.
	CreateDate string `yaml:"createdate,omitempty" json:"createdate,omitempty"`
	ExpDate    string `yaml:"expdate,omitempty" json:"expdate,omitempty"`
	BankAcc    string `yaml:"bankacc,omitempty" json:"bankacc,omitempty"`
	// Password is the card's query password (query.card pwd). Empty: any
	// pwd is accepted. A wrong one answers Options.WrongPasswordRetcode
	// (default 60003, like an unknown identity), with no card data. The
	// simulator never logs it.
	Password string `yaml:"password,omitempty" json:"password,omitempty"`

	// The identity fields below and SchCode are not in v2.42: the
	// query.card extensions get_idinfo and getschcode answer them.

	// Sex is "1" (male), "2" (female) or empty.
	Sex string `yaml:"sex,omitempty" json:"sex,omitempty"`
	// DeptCode and DeptName name the holder's department.
	DeptCode string `yaml:"deptcode,omitempty" json:"deptcode,omitempty"`
	DeptName string `yaml:"deptname,omitempty" json:"deptname,omitempty"`
	// PidCode and PidName name the holder's kind of identity (本科生,
	// 教职工…).
	PidCode string `yaml:"pidcode,omitempty" json:"pidcode,omitempty"`
	PidName string `yaml:"pidname,omitempty" json:"pidname,omitempty"`
	// SchCode is the card's accounting unit (核算单位); it defaults to
	// "0001".
	SchCode string `yaml:"schcode,omitempty" json:"schcode,omitempty"`
}

// The query.card extensions: request fields v2.42 does not list that newer
// platforms accept, and a public client sends, each "1" to ask for more
// in every card of the reply (package documentation, "Beyond the spec").
const (
	// ExtIdentity asks for the identity fields sex, deptcode, deptname,
	// pidcode and pidname.
	ExtIdentity = "get_idinfo"
	// ExtAccounts asks for accinfo, the list of the card's accounts.
	ExtAccounts = "get_accinfo"
	// ExtSchCode asks for schcode, the accounting unit.
	ExtSchCode = "getschcode"
	// ExtCardID asks for cardid, the physical card number.
	ExtCardID = "getcardid"
)

// cardParts says which optional parts every card of a query.card reply
// carries: merge_flag (the spec's get_merge) and the extensions.
type cardParts struct {
	merge, identity, accounts, schcode, cardid bool
}

// extensions names the extensions asked for, for the log.
func (p cardParts) extensions() []string {
	var names []string
	for _, e := range []struct {
		on   bool
		name string
	}{{p.identity, ExtIdentity}, {p.accounts, ExtAccounts}, {p.schcode, ExtSchCode}, {p.cardid, ExtCardID}} {
		if e.on {
			names = append(names, e.name)
		}
	}
	return names
}

// Demo card accounts, for tests and documentation.
const (
	DemoNormal  = "100001" // ¥100.00
	DemoRich    = "100002" // ¥100,000.00
	DemoLow     = "100003" // ¥0.50
	DemoLost    = "100004" // reported lost; 赵六's old card
	DemoFrozen  = "100005" // frozen
	DemoBarcode = "100006" // barcode payments enabled; 赵六's new card
)

// Demo query passwords (query.card pwd), for tests and documentation: 赵六's
// two cards share one.
const (
	DemoNormalPassword = "123456" // 张三
	DemoRichPassword   = "654321" // 李四
	DemoLowPassword    = "111111" // 王五
	DemoZhaoPassword   = "246810" // 赵六: DemoLost and DemoBarcode
	DemoFrozenPassword = "135790" // 钱七
)

// DemoCards returns the built-in card set: a normal card with ¥100.00, a
// rich one, one with ¥0.50, a lost one, a frozen one, and a card with
// barcode payments enabled. The lost card and the barcode card belong to
// one person (same sno, phone, cert and password), so a query by those
// returns two cards. Every card has a 6-digit query password (the Demo…
// Password constants). Every call returns a fresh slice.
func DemoCards() []Card {
	return []Card{
		{Account: DemoNormal, Name: "张三", SNo: "2024000001", CardID: "3197650001", Phone: "13800000001",
			Cert: "110101200001011234", CertType: "001", Balance: 100_00,
			Sex: "1", DeptCode: "0301", DeptName: "计算机学院", PidCode: "1", PidName: "本科生", Password: DemoNormalPassword},
		{Account: DemoRich, Name: "李四", SNo: "2024000002", CardID: "3197650002", Phone: "13800000002",
			Cert: "110101200002021234", CertType: "001", Balance: 100_000_00, CardType: "2", CardName: "教工卡",
			Sex: "2", DeptCode: "0900", DeptName: "后勤处", PidCode: "3", PidName: "教职工", Password: DemoRichPassword},
		{Account: DemoLow, Name: "王五", SNo: "2024000003", CardID: "3197650003", Phone: "13800000003", Balance: 50, Password: DemoLowPassword},
		{Account: DemoLost, Name: "赵六", SNo: "2024000004", CardID: "3197650004", Phone: "13800000004",
			Cert: "110101200004041234", CertType: "001", Balance: 50_00, Lost: true, Password: DemoZhaoPassword},
		{Account: DemoFrozen, Name: "钱七", SNo: "2024000005", CardID: "3197650005", Phone: "13800000005", Balance: 80_00, Frozen: true, Password: DemoFrozenPassword},
		{Account: DemoBarcode, Name: "赵六", SNo: "2024000004", CardID: "3197650006", Barcode: "280123456789012345",
			Phone: "13800000004", Cert: "110101200004041234", CertType: "001", Balance: 200_00, Password: DemoZhaoPassword},
	}
}

// maxBalance is the largest db_balance String(10) can carry.
const maxBalance money.Fen = 9_999_999_999

func (c *Card) check() error {
	lim := []struct {
		name, v string
		max     int
	}{
		{"account", c.Account, 10}, {"name", c.Name, 30}, {"sno", c.SNo, 20},
		{"cardid", c.CardID, 32}, {"barcode", c.Barcode, 32}, {"phone", c.Phone, 20},
		{"cert", c.Cert, 20}, {"certtype", c.CertType, 3}, {"cardtype", c.CardType, 3},
		{"cardname", c.CardName, 20}, {"createdate", c.CreateDate, 8}, {"expdate", c.ExpDate, 8},
		{"bankacc", c.BankAcc, 20}, {"password", c.Password, 32},
		{"sex", c.Sex, 1}, {"deptcode", c.DeptCode, 20}, {"deptname", c.DeptName, 60},
		{"pidcode", c.PidCode, 10}, {"pidname", c.PidName, 30}, {"schcode", c.SchCode, 10},
	}
	if c.Account == "" {
		return errors.New("account is empty")
	}
	for _, l := range lim {
		if len(l.v) > l.max {
			return fmt.Errorf("%s is %d bytes, at most %d allowed", l.name, len(l.v), l.max)
		}
		if hasControl(l.v) {
			return fmt.Errorf("%s holds a control character", l.name)
		}
	}
	if c.Balance < 0 || c.Balance > maxBalance {
		return fmt.Errorf("balance_fen %d is out of range 0 to %d", c.Balance, maxBalance)
	}
	if c.Unsettled < 0 || c.Unsettled > maxBalance {
		return fmt.Errorf("unsettle_fen %d is out of range 0 to %d", c.Unsettled, maxBalance)
	}
	return nil
}

func (c *Card) fillDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.CardType, "1")
	def(&c.CardName, "学生卡")
	def(&c.CreateDate, "20240901")
	def(&c.ExpDate, "20280731")
	def(&c.SchCode, "0001")
}

// wire renders the card as a query.card reply object, with the parts
// asked for: every field a string, accinfo a list of objects of strings.
func (c *Card) wire(parts cardParts) map[string]any {
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	m := map[string]any{
		"account": c.Account, "name": c.Name,
		"unsettle_amount": fen(c.Unsettled), "db_balance": fen(c.Balance),
		"lostflag": flag(c.Lost), "freezeflag": flag(c.Frozen),
		"idflag": flag(c.Cert != ""), "barflag": flag(c.Barcode != ""),
		"createdate": c.CreateDate, "expdate": c.ExpDate,
		"cardtype": c.CardType, "cardname": c.CardName, "bankacc": c.BankAcc,
		"sno": c.SNo, "phone": c.Phone, "certtype": c.CertType, "cert": c.Cert,
		"autotrans_limite": "0", "autotrans_amt": "0", "autotrans_flag": "0",
		"mscard": "0", "scard_num": "0",
	}
	if parts.merge {
		m["merge_flag"] = "0"
	}
	if parts.identity {
		m["sex"], m["deptcode"], m["deptname"] = c.Sex, c.DeptCode, c.DeptName
		m["pidcode"], m["pidname"] = c.PidCode, c.PidName
	}
	if parts.accounts {
		// The simulator keeps the card account only; a platform with
		// electronic accounts lists each beside it, with its own type.
		m["accinfo"] = []map[string]string{{
			"type": onecard.AccTypeCard, "name": "卡账户", "balance": fen(c.Balance),
			"autotrans_limite": "0", "autotrans_amt": "0", "autotrans_flag": "0",
		}}
	}
	if parts.schcode {
		m["schcode"] = c.SchCode
	}
	if parts.cardid {
		m["cardid"] = c.CardID
	}
	return m
}

// matches reports whether the card answers a query.card identity.
func (c *Card) matches(idtype, id string) bool {
	switch idtype {
	case "sno":
		return c.SNo == id
	case "id":
		return c.Cert == id
	case "phone":
		return c.Phone == id
	case "acc":
		return c.Account == id
	case "cardid":
		return c.CardID == id
	case "barcode":
		return c.Barcode == id
	}
	return false
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// Mask hides all but the last four characters of an account or card
// number, for logs.
func Mask(s string) string {
	if len(s) <= 4 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}
