package agent_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const billDate = "20261127"

var (
	billDay   = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	reportNow = time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
)

// billRow is a bill line for order no.
func billRow(no, typ, status string, amt money.Fen) onecard.BillRow {
	return onecard.BillRow{Time: billDay, Account: "32718", AccType: "###", MercAcc: "100000",
		OutID: "OUT" + no, OrderNo: no, Type: typ, Status: status, Amount: amt}
}

func payRow(no, status string, amt money.Fen) onecard.BillRow {
	return billRow(no, onecard.BillTypePay, status, amt)
}

func refundRow(no, status string, amt money.Fen) onecard.BillRow {
	return billRow(no, onecard.BillTypeRefund, status, amt)
}

// newBill builds a bill whose trailer agrees with its rows, as ParseBill
// guarantees.
func newBill(rows ...onecard.BillRow) *onecard.Bill {
	b := &onecard.Bill{Header: onecard.BillHeader, Rows: rows, Count: len(rows)}
	for _, r := range rows {
		b.Total += r.Amount
	}
	return b
}

func payOrder(no string, s agent.OrderState, amt money.Fen) agent.Order {
	return agent.Order{OrderNo: no, Kind: agent.KindPay, Account: "32718", AccType: "###", MercAcc: "100000",
		Amount: amt, Created: billDay, Updated: billDay, State: s}
}

func refundOrder(no string, s agent.OrderState, amt money.Fen) agent.Order {
	o := payOrder(no, s, amt)
	o.Kind, o.RefundOf = agent.KindRefund, "P-original"
	return o
}

// stale backdates an order's last update: a copy read before the current one.
func stale(o agent.Order) agent.Order {
	o.Updated = o.Updated.Add(-time.Minute)
	return o
}

// wantLine is what a test expects of one report line; note is a substring
// of the line's Note.
type wantLine struct {
	no    string
	match agent.BillMatch
	note  string
}

func TestCompareBill(t *testing.T) {
	tests := []struct {
		name   string
		bill   *onecard.Bill
		orders []agent.Order
		counts map[agent.BillMatch]int // classes left out must be zero
		lines  []wantLine
	}{
		{
			name:   "pay charged and journal paid",
			bill:   newBill(payRow("A1", "60", 1250)),
			orders: []agent.Order{payOrder("A1", agent.StatePaid, 1250)},
			counts: map[agent.BillMatch]int{agent.BillMatched: 1},
		},
		{
			name: "charged states of a payment all agree with a success row",
			bill: newBill(payRow("A1", "60", 100), payRow("A2", "60", 200), payRow("A3", "60", 300),
				payRow("A4", "60", 400), payRow("A5", "60", 500)),
			orders: []agent.Order{
				payOrder("A1", agent.StatePaid, 100),
				payOrder("A2", agent.StateRefunded, 200),
				payOrder("A3", agent.StatePartiallyRefunded, 300),
				payOrder("A4", agent.StateOrphanCharged, 400),
				payOrder("A5", agent.StateOrphanRefunded, 500),
			},
			counts: map[agent.BillMatch]int{agent.BillMatched: 5},
		},
		{
			name:   "refund order gone through",
			bill:   newBill(payRow("P1", "60", 1000), refundRow("R1", "60", 400)),
			orders: []agent.Order{payOrder("P1", agent.StatePartiallyRefunded, 1000), refundOrder("R1", agent.StatePaid, 400)},
			counts: map[agent.BillMatch]int{agent.BillMatched: 2},
		},
		{
			name: "failed rows agree with the states where no money moved",
			bill: newBill(payRow("D1", "77", 100), payRow("D2", "77", 200), payRow("D3", "77", 300),
				refundRow("D4", "77", 50)),
			orders: []agent.Order{
				payOrder("D1", agent.StateDeclined, 100),
				payOrder("D2", agent.StateVoided, 200),
				payOrder("D3", agent.StateFailedAfterOffline, 300),
				refundOrder("D4", agent.StateDeclined, 50),
			},
			counts: map[agent.BillMatch]int{agent.BillMatched: 4},
		},
		{
			name: "states where no money moved are expected to be missing",
			bill: newBill(),
			orders: []agent.Order{
				payOrder("N1", agent.StateDeclined, 100),
				payOrder("N2", agent.StateVoided, 100),
				payOrder("N3", agent.StateFailedAfterOffline, 100),
				payOrder("N4", agent.StateNeedsReview, 100),
				refundOrder("N5", agent.StateDeclined, 100),
			},
			counts: map[agent.BillMatch]int{agent.BillMatched: 5},
		},
		{
			name: "journal only: every state the platform should or may know of",
			bill: newBill(),
			orders: []agent.Order{
				payOrder("J1", agent.StatePaid, 100),
				payOrder("J2", agent.StateRefunded, 100),
				payOrder("J3", agent.StatePartiallyRefunded, 100),
				payOrder("J4", agent.StateOrphanCharged, 100),
				payOrder("J5", agent.StateOrphanRefunded, 100),
				payOrder("J6", agent.StateUnknown, 100),
				payOrder("J7", agent.StateOfflineAccepted, 100),
				payOrder("J8", agent.StateSending, 100),
				refundOrder("J9", agent.StatePaid, 100),
			},
			counts: map[agent.BillMatch]int{agent.BillJournalOnly: 9},
			lines: []wantLine{
				{"J1", agent.BillJournalOnly, "journal says the platform took it (paid)"},
				{"J2", agent.BillJournalOnly, "(refunded)"},
				{"J3", agent.BillJournalOnly, "(partially_refunded)"},
				{"J4", agent.BillJournalOnly, "(orphan_charged)"},
				{"J5", agent.BillJournalOnly, "(orphan_refunded)"},
				{"J6", agent.BillJournalOnly, "journal still unknown"},
				{"J7", agent.BillJournalOnly, "journal still offline_accepted"},
				{"J8", agent.BillJournalOnly, "journal still sending"},
				{"J9", agent.BillJournalOnly, "(paid)"},
			},
		},
		{
			name: "platform only",
			bill: newBill(payRow("X1", "60", 990), refundRow("X2", "60", 500), payRow("X3", "77", 100),
				payRow("X4", "20", 100)),
			counts: map[agent.BillMatch]int{agent.BillPlatformOnly: 4},
			lines: []wantLine{
				{"X1", agent.BillPlatformOnly, "SERIOUS: the platform charged ¥9.90"},
				{"X2", agent.BillPlatformOnly, "SERIOUS: the platform refunded ¥5.00"},
				{"X3", agent.BillPlatformOnly, "no money moved"},
				{"X4", agent.BillPlatformOnly, `status "20"`},
			},
		},
		{
			name:   "amount mismatch",
			bill:   newBill(payRow("M1", "60", 1300), refundRow("M2", "77", 10)),
			orders: []agent.Order{payOrder("M1", agent.StatePaid, 1250), refundOrder("M2", agent.StateVoided, 20)},
			counts: map[agent.BillMatch]int{agent.BillAmountMismatch: 2},
			lines: []wantLine{
				{"M1", agent.BillAmountMismatch, "journal ¥12.50, bill ¥13.00"},
				{"M2", agent.BillAmountMismatch, "journal ¥0.20, bill ¥0.10"},
			},
		},
		{
			name: "charged on the platform, journal says no money moved",
			bill: newBill(payRow("S1", "60", 100), payRow("S2", "60", 100), payRow("S3", "60", 100),
				refundRow("S4", "60", 100)),
			orders: []agent.Order{
				payOrder("S1", agent.StateVoided, 100),
				payOrder("S2", agent.StateDeclined, 100),
				payOrder("S3", agent.StateFailedAfterOffline, 100),
				refundOrder("S4", agent.StateDeclined, 100),
			},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 4},
			lines: []wantLine{
				{"S1", agent.BillStatusMismatch, "journal voided but the platform charged it"},
				{"S2", agent.BillStatusMismatch, "journal declined but the platform charged it"},
				{"S3", agent.BillStatusMismatch, "journal failed_after_offline but the platform charged it"},
				{"S4", agent.BillStatusMismatch, "journal declined but the platform refunded it"},
			},
		},
		{
			name: "failed on the platform, journal says money moved",
			bill: newBill(payRow("F1", "77", 100), payRow("F2", "77", 100), payRow("F3", "77", 100),
				payRow("F4", "77", 100), payRow("F5", "77", 100), refundRow("F6", "77", 100)),
			orders: []agent.Order{
				payOrder("F1", agent.StatePaid, 100),
				payOrder("F2", agent.StateRefunded, 100),
				payOrder("F3", agent.StatePartiallyRefunded, 100),
				payOrder("F4", agent.StateOrphanCharged, 100),
				payOrder("F5", agent.StateOrphanRefunded, 100),
				refundOrder("F6", agent.StatePaid, 100),
			},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 6},
			lines: []wantLine{
				{"F1", agent.BillStatusMismatch, "journal paid but the platform failed it"},
				{"F2", agent.BillStatusMismatch, "journal refunded but the platform failed it"},
				{"F3", agent.BillStatusMismatch, "journal partially_refunded but the platform failed it"},
				{"F4", agent.BillStatusMismatch, "journal orphan_charged but the platform failed it"},
				{"F5", agent.BillStatusMismatch, "journal orphan_refunded but the platform failed it"},
				{"F6", agent.BillStatusMismatch, "journal paid but the platform failed it"},
			},
		},
		{
			name: "refund order in a payment-only state",
			bill: newBill(refundRow("R1", "60", 100), refundRow("R2", "60", 100)),
			orders: []agent.Order{
				refundOrder("R1", agent.StateRefunded, 100),
				refundOrder("R2", agent.StateOrphanCharged, 100),
			},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 2},
			lines: []wantLine{
				{"R1", agent.BillStatusMismatch, "refund order in state refunded, which only a payment takes"},
				{"R2", agent.BillStatusMismatch, "refund order in state orphan_charged, which only a payment takes"},
			},
		},
		{
			name: "unsettled orders are mismatches whatever the bill says",
			bill: newBill(payRow("U1", "60", 100), payRow("U2", "77", 100), payRow("U3", "60", 100),
				payRow("U4", "77", 100), payRow("U5", "60", 100), refundRow("U6", "60", 100)),
			orders: []agent.Order{
				payOrder("U1", agent.StateSending, 100),
				payOrder("U2", agent.StateSending, 100),
				payOrder("U3", agent.StateUnknown, 100),
				payOrder("U4", agent.StateUnknown, 100),
				payOrder("U5", agent.StateOfflineAccepted, 100),
				refundOrder("U6", agent.StateSending, 100),
			},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 6},
			lines: []wantLine{
				{"U1", agent.BillStatusMismatch, "journal still sending but the platform charged it: query it"},
				{"U2", agent.BillStatusMismatch, "journal still sending but the platform failed it"},
				{"U3", agent.BillStatusMismatch, "journal still unknown but the platform charged it"},
				{"U4", agent.BillStatusMismatch, "journal still unknown but the platform failed it"},
				{"U5", agent.BillStatusMismatch, "journal still offline_accepted but the platform charged it"},
				{"U6", agent.BillStatusMismatch, "journal still sending but the platform refunded it"},
			},
		},
		{
			name:   "order under review on the bill",
			bill:   newBill(payRow("V1", "60", 100), payRow("V2", "77", 100)),
			orders: []agent.Order{payOrder("V1", agent.StateNeedsReview, 100), payOrder("V2", agent.StateNeedsReview, 100)},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 2},
			lines: []wantLine{
				{"V1", agent.BillStatusMismatch, "awaits review; the platform charged it"},
				{"V2", agent.BillStatusMismatch, "awaits review; the platform failed it"},
			},
		},
		{
			name:   "bill status neither success nor failure",
			bill:   newBill(payRow("B1", "20", 100)),
			orders: []agent.Order{payOrder("B1", agent.StatePaid, 100)},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 1},
			lines:  []wantLine{{"B1", agent.BillStatusMismatch, `bill status "20" is neither 60 (success) nor 77 (failed)`}},
		},
		{
			name: "bill type contradicts the order kind",
			bill: newBill(refundRow("T1", "60", 100), payRow("T2", "60", 100), payRow("T3", "60", 100)),
			orders: []agent.Order{
				payOrder("T1", agent.StatePaid, 100),
				refundOrder("T2", agent.StatePaid, 100),
				{OrderNo: "T3", State: agent.StatePaid, Amount: 100},
			},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 3},
			lines: []wantLine{
				{"T1", agent.BillStatusMismatch, "journal has a pay order but the bill a refund (type 02)"},
				{"T2", agent.BillStatusMismatch, "journal has a refund order but the bill a payment (type 01)"},
				{"T3", agent.BillStatusMismatch, "kind-less order"},
			},
		},
		{
			name:   "wrong state outweighs wrong amount, both noted",
			bill:   newBill(payRow("W1", "60", 500)),
			orders: []agent.Order{payOrder("W1", agent.StateVoided, 400)},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 1},
			lines:  []wantLine{{"W1", agent.BillStatusMismatch, "journal voided but the platform charged it; amounts differ: journal ¥4.00, bill ¥5.00"}},
		},
		{
			name: "order passed twice counts once, last update wins",
			bill: newBill(payRow("D1", "60", 100), payRow("D3", "60", 100)),
			orders: []agent.Order{
				stale(payOrder("D1", agent.StateUnknown, 100)),
				payOrder("D1", agent.StatePaid, 100),
				payOrder("D2", agent.StateDeclined, 100),
				payOrder("D2", agent.StateDeclined, 100),
				payOrder("D3", agent.StatePaid, 100),
				stale(payOrder("D3", agent.StateUnknown, 100)),
			},
			counts: map[agent.BillMatch]int{agent.BillMatched: 3},
		},
		{
			name:   "number billed twice",
			bill:   newBill(payRow("T1", "77", 100), payRow("T1", "60", 100)),
			orders: []agent.Order{payOrder("T1", agent.StatePaid, 100)},
			counts: map[agent.BillMatch]int{agent.BillStatusMismatch: 1},
			lines:  []wantLine{{"T1", agent.BillStatusMismatch, "appears 2 times on the bill"}},
		},
		{
			name:   "number billed twice with no journal order",
			bill:   newBill(payRow("T1", "60", 100), payRow("T1", "60", 100)),
			counts: map[agent.BillMatch]int{agent.BillPlatformOnly: 1},
			lines:  []wantLine{{"T1", agent.BillPlatformOnly, "SERIOUS"}},
		},
		{
			name:   "nil bill",
			orders: []agent.Order{payOrder("E1", agent.StatePaid, 100), payOrder("E2", agent.StateVoided, 100)},
			counts: map[agent.BillMatch]int{agent.BillJournalOnly: 1, agent.BillMatched: 1},
			lines:  []wantLine{{"E1", agent.BillJournalOnly, "paid"}},
		},
		{
			name:   "empty bill, no orders",
			bill:   newBill(),
			counts: map[agent.BillMatch]int{},
		},
		{
			name: "order created that day but billed on another day",
			bill: newBill(payRow("K1", "60", 100)),
			orders: []agent.Order{
				payOrder("K1", agent.StatePaid, 100),
				func() agent.Order {
					o := payOrder("K2", agent.StatePaid, 100)
					o.Created = time.Date(2026, 11, 27, 23, 59, 59, 0, time.UTC) // the platform billed it on the 28th
					return o
				}(),
			},
			counts: map[agent.BillMatch]int{agent.BillMatched: 1, agent.BillJournalOnly: 1},
			lines:  []wantLine{{"K2", agent.BillJournalOnly, "neighbouring day's bill"}},
		},
		{
			name: "order created the day before and billed this day",
			bill: newBill(payRow("K3", "60", 100)),
			orders: []agent.Order{func() agent.Order {
				o := payOrder("K3", agent.StatePaid, 100)
				o.Created = time.Date(2026, 11, 26, 23, 59, 59, 0, time.UTC)
				return o
			}()},
			counts: map[agent.BillMatch]int{agent.BillMatched: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := agent.CompareBill(billDate, tt.bill, tt.orders, reportNow)

			assert.Equal(t, billDate, r.Date)
			assert.Equal(t, reportNow, r.Created)
			if tt.bill != nil {
				assert.Equal(t, tt.bill.Count, r.BillCount)
				assert.Equal(t, tt.bill.Total, r.BillTotal)
			} else {
				assert.Zero(t, r.BillCount)
				assert.Zero(t, r.BillTotal)
			}

			want := map[agent.BillMatch]int{agent.BillMatched: 0, agent.BillPlatformOnly: 0,
				agent.BillJournalOnly: 0, agent.BillAmountMismatch: 0, agent.BillStatusMismatch: 0}
			for m, n := range tt.counts {
				want[m] = n
			}
			assert.Equal(t, want, r.Counts, "every class is counted, zeros included")

			require.Len(t, r.Lines, len(tt.lines), "lines: %+v", r.Lines)
			for i, w := range tt.lines {
				got := r.Lines[i]
				assert.Equal(t, w.no, got.OrderNo, "line %d", i)
				assert.Equal(t, w.match, got.Match, "line %s: %s", got.OrderNo, got.Note)
				assert.Contains(t, got.Note, w.note, "line %s", got.OrderNo)
			}
		})
	}
}

func TestCompareBillLineViews(t *testing.T) {
	paid := payOrder("P2", agent.StatePaid, 700)
	paid.OutID = "JOURNAL-OUT"
	mismatched := payOrder("P1", agent.StatePaid, 1250)
	mismatched.OutID = "JOURNAL-P1"
	noOutID := payRow("P1", "60", 1300)
	noOutID.OutID = "" // the bill's own number wins when it has one, else the journal's stands in
	bill := newBill(noOutID, payRow("P3", "60", 900))
	r := agent.CompareBill(billDate, bill, []agent.Order{mismatched, paid}, reportNow)

	require.Len(t, r.Lines, 3)
	row := bill.Rows[0] // the bill's own view of an order: its account and time
	assert.Equal(t, agent.BillLine{OrderNo: "P1", Match: agent.BillAmountMismatch, Account: row.Account, BillTime: row.Time,
		JournalState: agent.StatePaid, JournalAmount: 1250,
		BillType: onecard.BillTypePay, BillStatus: "60", BillAmount: 1300, OutID: "JOURNAL-P1",
		Note: "amounts differ: journal ¥12.50, bill ¥13.00"}, r.Lines[0])
	assert.Equal(t, agent.BillLine{OrderNo: "P2", Match: agent.BillJournalOnly,
		JournalState: agent.StatePaid, JournalAmount: 700, OutID: "JOURNAL-OUT",
		Note: r.Lines[1].Note}, r.Lines[1], "a journal-only line has no bill view")
	assert.Equal(t, agent.BillLine{OrderNo: "P3", Match: agent.BillPlatformOnly, Account: row.Account, BillTime: row.Time,
		BillType: onecard.BillTypePay, BillStatus: "60", BillAmount: 900, OutID: "OUTP3",
		Note: r.Lines[2].Note}, r.Lines[2], "a platform-only line has no journal view")
}

// TestCompareBillSortedAndCounted mixes many orders of every class in
// shuffled order: lines come out sorted, and every order number is counted
// exactly once.
func TestCompareBillSortedAndCounted(t *testing.T) {
	var rows []onecard.BillRow
	var orders []agent.Order
	for i := 99; i >= 0; i-- {
		no := fmt.Sprintf("N%03d", i)
		switch i % 5 {
		case 0: // matched
			rows = append(rows, payRow(no, "60", 100))
			orders = append(orders, payOrder(no, agent.StatePaid, 100))
		case 1: // platform only
			rows = append(rows, payRow(no, "60", 100))
		case 2: // journal only
			orders = append(orders, payOrder(no, agent.StateUnknown, 100))
		case 3: // amount
			rows = append(rows, payRow(no, "60", 100))
			orders = append(orders, payOrder(no, agent.StatePaid, 101))
		case 4: // status
			rows = append(rows, payRow(no, "60", 100))
			orders = append(orders, payOrder(no, agent.StateVoided, 100))
		}
	}
	r := agent.CompareBill(billDate, newBill(rows...), orders, reportNow)

	total := 0
	for _, n := range r.Counts {
		assert.Equal(t, 20, n)
		total += n
	}
	assert.Equal(t, 100, total)
	require.Len(t, r.Lines, 80)
	assert.IsIncreasing(t, func() []string {
		nos := make([]string, len(r.Lines))
		for i, l := range r.Lines {
			nos[i] = l.OrderNo
		}
		return nos
	}())
	for _, l := range r.Lines {
		assert.NotEqual(t, agent.BillMatched, l.Match)
	}
}
