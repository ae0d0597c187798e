package onecard

import (
	"strings"
	"testing"

	"github.com/campuspos/kiosk/agent/money"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// specBill is the spec's example (2.2.3.4.2) with the PDF's wrapped rows
// joined, cut to three rows.
const specBill = `#交易时间,账号,账户类型,商户号,一卡通业务流水号,第三方系统订单号,交易类型,交易状态,总金额, 附加数据
20160512190107,101987,###,0,201605120013176143,201605121841211150,01,60,1.00,attach
20160512190606,101987,###,0,201605120013176145,201605121846211151,01,60,1.00,attach
20160512192039,101987,###,0,201605120013176151,201605121900521154,01,60,1.00,attach
#总行数,总金额
3,3.00
`

func TestParseBillSpecExample(t *testing.T) {
	b, err := ParseBill([]byte(specBill))
	require.NoError(t, err)
	require.Len(t, b.Rows, 3)
	assert.Equal(t, 3, b.Count)
	assert.Equal(t, money.Fen(300), b.Total)
	r := b.Rows[0]
	assert.Equal(t, "101987", r.Account)
	assert.Equal(t, "###", r.AccType)
	assert.Equal(t, "201605120013176143", r.OutID)
	assert.Equal(t, "201605121841211150", r.OrderNo)
	assert.Equal(t, BillTypePay, r.Type)
	assert.Equal(t, "60", r.Status)
	assert.Equal(t, money.Fen(100), r.Amount)
	assert.Equal(t, "attach", r.Attach)
	assert.Equal(t, "2016-05-12 19:01:07", r.Time.Format("2006-01-02 15:04:05"))
}

func TestParseBillCRLFAndGBK(t *testing.T) {
	crlf := strings.ReplaceAll(specBill, "\n", "\r\n")
	_, err := ParseBill([]byte(crlf))
	require.NoError(t, err)
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(strings.Replace(specBill, ",attach\n", ",食堂\n", 1)))
	require.NoError(t, err)
	b, err := ParseBill(gbk)
	require.NoError(t, err)
	assert.Equal(t, "食堂", b.Rows[0].Attach)
}

func TestFormatBillRoundTrip(t *testing.T) {
	b, err := ParseBill([]byte(specBill))
	require.NoError(t, err)
	again, err := ParseBill(FormatBill(BillHeader, b.Rows))
	require.NoError(t, err)
	assert.Equal(t, b.Rows, again.Rows)
	empty, err := ParseBill(FormatBill(BillHeader, nil))
	require.NoError(t, err)
	assert.Zero(t, empty.Count)
}

func TestParseBillRefusesInconsistentBills(t *testing.T) {
	cases := map[string]string{
		"count off":       strings.Replace(specBill, "3,3.00", "4,3.00", 1),
		"total off":       strings.Replace(specBill, "3,3.00", "3,3.01", 1),
		"no header":       strings.SplitN(specBill, "\n", 2)[1],
		"no trailer":      strings.Split(specBill, "#总行数")[0],
		"bad amount":      strings.Replace(specBill, ",1.00,attach", ",1.001,attach", 1),
		"bad time":        strings.Replace(specBill, "20160512190107", "2016-05-12", 1),
		"bad type":        strings.Replace(specBill, ",01,60,", ",03,60,", 1),
		"short row":       strings.Replace(specBill, ",01,60,1.00,attach", "", 1),
		"trailer garbage": strings.Replace(specBill, "3,3.00", "three", 1),
		"extra lines":     specBill + "1,1.00\n",
		"empty":           "",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseBill([]byte(text))
			assert.Error(t, err)
		})
	}
}
