package main

import (
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/offline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJournalCommands(t *testing.T) {
	e := newEnv(t)
	var paid []string
	for _, amount := range []string{"1.00", "2.00", "3.00"} {
		code, o := e.jsonRun(t, "pay", "--account", sim.DemoNormal, "--amount", amount)
		require.Equal(t, exitOK, code)
		paid = append(paid, o["order_no"].(string))
	}
	code, _ := e.jsonRun(t, "pay", "--account", sim.DemoLow, "--amount", "5.00")
	require.Equal(t, exitDeclined, code)

	code, q := e.jsonRun(t, "queue")
	require.Equal(t, exitOK, code)
	orders := q["orders"].([]any)
	require.Len(t, orders, 4)
	assert.Equal(t, "declined", orders[0].(map[string]any)["state"], "newest first")
	assert.Equal(t, "**0001", orders[1].(map[string]any)["account"], "accounts are masked")

	code, q = e.jsonRun(t, "queue", "--state", "paid")
	require.Equal(t, exitOK, code)
	assert.Len(t, q["orders"].([]any), 3)
	code, _, _ = e.kioskctl(t, "queue", "--state", "lost")
	assert.Equal(t, exitUsage, code)

	day := e.simulator.Now().In(e.simulator.Location()).Format(onecard.BillDateLayout)
	code, out, stderr := e.kioskctl(t, "export", "--from", day)
	require.Equal(t, exitOK, code, stderr)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 5, "header and four orders")
	assert.Equal(t, "order_no", rows[0][0])
	assert.Equal(t, paid[0], rows[1][0], "oldest first")

	code, rep := e.jsonRun(t, "bill", "--date", day, "--reconcile")
	require.Equal(t, exitOK, code)
	assert.EqualValues(t, 4, rep["counts"].(map[string]any)["matched"])
	assert.Empty(t, rep["lines"])

	code, chk := e.jsonRun(t, "check")
	require.Equal(t, exitOK, code)
	assert.Equal(t, true, chk["ok"])
}

// While the kiosk holds the database, kioskctl must not open a token
// session of its own (a second token voids the kiosk's): it says so.
func TestRefusesWhileTheKioskHoldsTheDatabase(t *testing.T) {
	e := newEnv(t)
	code, _ := e.jsonRun(t, "token")
	require.Equal(t, exitOK, code)
	held, err := offline.Open(filepath.Join(filepath.Dir(e.config), "kiosk.db"))
	require.NoError(t, err)
	defer held.Close()
	calls := e.simulator.Stats().TokenCalls

	code, _, stderr := e.kioskctl(t, "pay", "--account", sim.DemoNormal, "--amount", "1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "is the kiosk running?")
	assert.Equal(t, calls, e.simulator.Stats().TokenCalls)
	assert.Empty(t, e.simulator.Transactions())
}
