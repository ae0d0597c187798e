package main

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// The day report adds up the day's orders by what became of them, and once
// the day's bill is reconciled shows the bill's net beside the journal's.
func TestReportOfADay(t *testing.T) {
	e := newEnv(t)
	day := e.simulator.Now().In(e.simulator.Location()).Format(onecard.BillDateLayout)
	code, pay := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", "12.00")
	require.Equal(t, exitOK, code)
	code, _ = e.jsonRun(t, "pay", "--account", sim.DemoLow, "--amount", "99.00")
	require.Equal(t, exitDeclined, code)
	code, _ = e.jsonRun(t, "refund", "--order-no", pay["order_no"].(string), "--amount", "2.00")
	require.Equal(t, exitOK, code)

	code, rep := e.jsonRun(t, "report", "--date", day)
	require.Equal(t, exitOK, code)
	days := rep["days"].([]any)
	require.Len(t, days, 1)
	d := days[0].(map[string]any)
	assert.Equal(t, day, d["date"])
	assert.Equal(t, map[string]any{"count": 1.0, "total": "12.00", "total_fen": 1200.0}, d["charged"])
	assert.Equal(t, "2.00", d["refunds"].(map[string]any)["total"])
	assert.Equal(t, 1.0, d["declined"].(map[string]any)["count"])
	assert.Equal(t, "10.00", d["net"])
	assert.Nil(t, d["settlement"], "not settled yet")

	code, _ = e.jsonRun(t, "bill", "--date", day, "--reconcile")
	require.Equal(t, exitOK, code)
	code, out, errOut := e.kioskctl(t, "report", "--date", day)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "day "+day)
	assert.Contains(t, out, "net taken (journal)")
	assert.Contains(t, out, "settled: bill 3 rows, net 10.00; journal net 10.00; difference 0.00")

	code, out, errOut = e.kioskctl(t, "report", "--from", day, "--to", day, "--csv")
	require.Equal(t, exitOK, code, errOut)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.Equal(t, "date", rows[0][0])
	assert.Equal(t, []string{day, "1", "12.00"}, rows[1][:3])
	assert.Equal(t, []string{"10.00", "done", "10.00", "0.00"}, rows[1][len(rows[1])-4:])
}

// While the kiosk holds the journal, the report comes from its status
// endpoint, the same figures.
func TestReportWhileTheKioskRuns(t *testing.T) {
	e := runningKiosk(t, "s3cret-token-0123456789")
	day := e.simulator.Now().In(e.simulator.Location()).Format(onecard.BillDateLayout)
	code, rep := e.jsonRun(t, "report", "--date", day)
	require.Equal(t, exitOK, code, "%v", rep)
	d := rep["days"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"count": 1.0, "total": "1.00", "total_fen": 100.0}, d["charged"], "the running kiosk's payment")
	code, out, errOut := e.kioskctl(t, "report", "--from", "20261301")
	assert.Equal(t, exitUsage, code, out)
	assert.Contains(t, errOut, "not a day")
}

func TestReportRange(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC) // 5 December in CST
	for _, c := range []struct {
		date, from, to string
		want           [2]string
		bad            bool
	}{
		{want: [2]string{"20261205", "20261205"}},
		{date: "20261201", want: [2]string{"20261201", "20261201"}},
		{from: "20261203", want: [2]string{"20261203", "20261205"}},
		{from: "20261130", to: "20261201", want: [2]string{"20261130", "20261201"}},
		{date: "20261201", from: "20261201", bad: true},
		{to: "20261201", bad: true},
		{from: "20261202", to: "20261201", bad: true},
		{date: "20261301", bad: true},
		{from: "20240101", to: "20261201", bad: true},
	} {
		from, to, err := reportRange(c.date, c.from, c.to, loc, now)
		if c.bad {
			var ue *usageError
			assert.ErrorAs(t, err, &ue, "%+v", c)
			continue
		}
		require.NoError(t, err, "%+v", c)
		assert.Equal(t, c.want, [2]string{from, to}, "%+v", c)
	}
}
