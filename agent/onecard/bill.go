package onecard

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/campuspos/kiosk/agent/money"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Bill is one day's bill from down.bill, checked against its trailer.
type Bill struct {
	// Header is the first line without its '#'.
	Header string
	Rows   []BillRow
	// Count and Total are the trailer's figures; ParseBill has checked them
	// against the rows.
	Count int
	Total money.Fen
}

// Bill transaction types.
const (
	BillTypePay    = "01"
	BillTypeRefund = "02"
)

// BillRow is one transaction line of a bill.
type BillRow struct {
	Time    time.Time // as written, in the platform's zone but carried as UTC fields
	Account string
	AccType string
	MercAcc string
	OutID   string
	OrderNo string
	Type    string
	Status  string
	Amount  money.Fen
	Attach  string
}

// BillTimeLayout is the bill's transaction time format.
const BillTimeLayout = "20060102150405"

// maxBillRows bounds a bill so that a garbage body cannot exhaust memory.
const maxBillRows = 1_000_000

// ParseBill reads the bill text: a '#' header, one line per transaction,
// then a '#' trailer header and one `count,total` line. The count and the
// total (the sum of the amount column, refunds included as written) must
// agree with the rows. GBK text is accepted.
func ParseBill(text []byte) (*Bill, error) {
	if !utf8.Valid(text) {
		dec, err := simplifiedchinese.GBK.NewDecoder().Bytes(text)
		if err != nil {
			return nil, errors.New("bill is neither UTF-8 nor GBK text")
		}
		text = dec
	}
	lines := strings.Split(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 3 {
		return nil, fmt.Errorf("bill has %d lines; want a header, a trailer header and a trailer", len(lines))
	}
	if !strings.HasPrefix(lines[0], "#") {
		return nil, errors.New("line 1: bill header does not start with '#'")
	}
	b := &Bill{Header: strings.TrimPrefix(strings.TrimSpace(lines[0]), "#")}
	i := 1
	var sum money.Fen
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "#"); i++ {
		if len(b.Rows) >= maxBillRows {
			return nil, fmt.Errorf("bill has more than %d rows", maxBillRows)
		}
		row, err := parseBillRow(lines[i])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		b.Rows = append(b.Rows, row)
		sum += row.Amount
	}
	if i != len(lines)-2 {
		return nil, fmt.Errorf("line %d: want the '#' trailer header followed by exactly one count,total line", i+1)
	}
	countText, totalText, ok := strings.Cut(strings.TrimSpace(lines[i+1]), ",")
	if !ok {
		return nil, fmt.Errorf("line %d: trailer %q is not count,total", i+2, Truncate(lines[i+1], 40))
	}
	n, err := strconv.Atoi(strings.TrimSpace(countText))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("line %d: trailer count %q is not a number", i+2, Truncate(countText, 20))
	}
	total, err := money.ParseYuan(strings.TrimSpace(totalText))
	if err != nil {
		return nil, fmt.Errorf("line %d: trailer total: %w", i+2, err)
	}
	b.Count, b.Total = n, total
	if n != len(b.Rows) {
		return nil, fmt.Errorf("trailer says %d rows, bill has %d", n, len(b.Rows))
	}
	if total != sum {
		return nil, fmt.Errorf("trailer total %s differs from the rows' sum %s", total.Yuan(), sum.Yuan())
	}
	return b, nil
}

func parseBillRow(line string) (BillRow, error) {
	f := strings.SplitN(strings.TrimSpace(line), ",", 10)
	if len(f) < 9 {
		return BillRow{}, fmt.Errorf("%d fields, want 10", len(f))
	}
	for len(f) < 10 {
		f = append(f, "")
	}
	t, err := time.Parse(BillTimeLayout, f[0])
	if err != nil {
		return BillRow{}, fmt.Errorf("time %q is not yyyyMMddHHmmss", Truncate(f[0], 20))
	}
	amt, err := money.ParseYuan(f[8])
	if err != nil {
		return BillRow{}, fmt.Errorf("amount: %w", err)
	}
	if f[6] != BillTypePay && f[6] != BillTypeRefund {
		return BillRow{}, fmt.Errorf("type %q is neither 01 nor 02", Truncate(f[6], 10))
	}
	if f[5] == "" {
		return BillRow{}, errors.New("order_no is empty")
	}
	return BillRow{Time: t, Account: f[1], AccType: f[2], MercAcc: f[3], OutID: f[4], OrderNo: f[5], Type: f[6], Status: f[7], Amount: amt, Attach: f[9]}, nil
}

// FormatBill writes a bill in the platform's text form (as the simulator
// serves it): header, rows, trailer with count and total.
func FormatBill(header string, rows []BillRow) []byte {
	var buf bytes.Buffer
	buf.WriteString("#" + header + "\n")
	var sum money.Fen
	for _, r := range rows {
		fmt.Fprintf(&buf, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", r.Time.Format(BillTimeLayout), r.Account, r.AccType, r.MercAcc, r.OutID, r.OrderNo, r.Type, r.Status, r.Amount.Yuan(), r.Attach)
		sum += r.Amount
	}
	fmt.Fprintf(&buf, "#总行数,总金额\n%d,%s\n", len(rows), sum.Yuan())
	return buf.Bytes()
}

// BillHeader is the header line the platform writes (without '#').
const BillHeader = "交易时间,账号,账户类型,商户号,一卡通业务流水号,第三方系统订单号,交易类型,交易状态,总金额,附加数据"
