package main

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
)

// The day report adds up the day's orders by what became of them, and once
// the day's bill is reconciled shows the bill's net beside the journal's.
func TestReportOfADay(t *testing.T) {
	e := newEnv(t)
	day := e.sim.Now().In(e.sim.Location()).Format(onecard.BillDateLayout)
	code, pay := e.jsonRun(t, "pay", "--account", onecardtest.DemoNormal, "--amount", "12.00")
	require.Equal(t, exitOK, code)
	code, _ = e.jsonRun(t, "pay", "--account", onecardtest.DemoLow, "--amount", "99.00")
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

func TestReportDays(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC) // 5 December in CST
	for _, c := range []struct {
		date, from, to string
		want           []string
		bad            bool
	}{
		{want: []string{"20261205"}},
		{date: "20261201", want: []string{"20261201"}},
		{from: "20261203", want: []string{"20261203", "20261204", "20261205"}},
		{from: "20261130", to: "20261201", want: []string{"20261130", "20261201"}},
		{date: "20261201", from: "20261201", bad: true},
		{to: "20261201", bad: true},
		{from: "20261202", to: "20261201", bad: true},
		{date: "20261301", bad: true},
		{from: "20240101", to: "20261201", bad: true},
	} {
		got, err := reportDays(c.date, c.from, c.to, loc, now)
		if c.bad {
			var ue *usageError
			assert.ErrorAs(t, err, &ue, "%+v", c)
			continue
		}
		require.NoError(t, err, "%+v", c)
		assert.Equal(t, c.want, got, "%+v", c)
	}
}
