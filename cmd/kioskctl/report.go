package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/cmd/internal/app"
)

// reportCmd is the day report (X report while the day runs, Z report once
// it is settled): from the journal, the day's payments by outcome,
// refunds, what is still unconfirmed, and the bill's figures beside them.
func reportCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	date := fs.String("date", "", "the day, YYYYMMDD (platform time; default today)")
	from := fs.String("from", "", "first day of a range, YYYYMMDD")
	to := fs.String("to", "", "last day of a range, YYYYMMDD, inclusive (default: today)")
	asCSV := fs.Bool("csv", false, "one CSV row per day instead of the table")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("report", args); err != nil {
			return result{}, err
		}
		if a.Config == nil {
			return result{}, a.ConfigErr
		}
		first, last, err := reportRange(*date, *from, *to, a.Config.Platform.Location, time.Now())
		if err != nil {
			return result{}, err
		}
		reps, err := dayReports(ctx, a.Config, first, last)
		if err != nil {
			return result{}, err
		}
		objs := make([]map[string]any, len(reps))
		for i, r := range reps {
			objs[i] = dayReportObject(r)
		}
		obj := map[string]any{"days": objs}
		if *asCSV {
			return result{raw: dayReportCSV(reps), obj: obj}, nil
		}
		var b strings.Builder
		for _, r := range reps {
			writeDayReport(&b, r)
		}
		return result{text: b.String(), obj: obj}, nil
	}
}

// dayReports reads the reports from the journal, or, while the kiosk
// holds it, from the kiosk's status endpoint (/report), which reads the
// same journal.
func dayReports(ctx context.Context, cfg *config.Config, from, to string) ([]agent.DayReport, error) {
	a, err := app.Open(cfg, agent.SystemClock{})
	switch {
	case err == nil:
		defer a.Close()
		return a.Service.DayReports(ctx, from, to)
	case !errors.Is(err, app.ErrInUse):
		return nil, err
	case cfg.Status.Listen == "":
		return nil, fmt.Errorf("%w; and status.listen is not set, so the kiosk cannot be asked for the report", err)
	}
	var reps []agent.DayReport
	q := url.Values{"from": {from}, "to": {to}}
	if err := fetchJSON(ctx, dialAddr(cfg.Status.Listen), cfg.Status.Token, "/report?"+q.Encode(), &reps); err != nil {
		return nil, &diagError{err}
	}
	return reps, nil
}

// reportRange turns the flags into the first and last day to report.
func reportRange(date, from, to string, loc *time.Location, now time.Time) (string, string, error) {
	today := now.In(loc).Format("20060102")
	switch {
	case date != "" && (from != "" || to != ""):
		return "", "", usagef("report takes --date or --from/--to, not both")
	case from == "" && to != "":
		return "", "", usagef("--to needs --from")
	case from == "":
		if date == "" {
			date = today
		}
		from, to = date, date
	case to == "":
		to = today
	}
	start, err := time.ParseInLocation("20060102", from, loc)
	if err != nil || start.Format("20060102") != from {
		return "", "", usagef("%q is not a day YYYYMMDD", from)
	}
	end, err := time.ParseInLocation("20060102", to, loc)
	if err != nil || end.Format("20060102") != to || end.Before(start) {
		return "", "", usagef("--to %q is not a day YYYYMMDD on or after %s", to, from)
	}
	if end.Sub(start) >= agent.MaxReportDays*24*time.Hour {
		return "", "", usagef("at most %d days at a time", agent.MaxReportDays)
	}
	return from, to, nil
}

// dayReportRows are the report's lines: name, figure.
func dayReportRows(r agent.DayReport) [][2]any {
	return [][2]any{
		{"charged (paid, refunded since)", r.Charged},
		{"refunds paid out", r.Refunds},
		{"refunds not yet confirmed", r.PendingRefunds},
		{"accepted offline, not yet settled", r.Offline},
		{"outcome not yet known", r.Unconfirmed},
		{"declined, voided, failed after offline", r.Declined},
		{"needs review", r.NeedsReview},
	}
}

func writeDayReport(b *strings.Builder, r agent.DayReport) {
	fmt.Fprintf(b, "day %s\n", r.Date)
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, row := range dayReportRows(r) {
		f := row[1].(agent.Figure)
		fmt.Fprintf(tw, "  %s\t%d\t%s\t\n", row[0], f.Count, f.Total.Yuan())
	}
	fmt.Fprintf(tw, "  net taken (journal)\t\t%s\t\n", r.Net.Yuan())
	tw.Flush()
	switch s := r.Settlement; {
	case s == nil:
		b.WriteString("  not settled yet\n")
	case s.State != agent.SettlementDone:
		fmt.Fprintf(b, "  settlement %s (attempt %d): %s\n", s.State, s.Attempts, s.Reason)
	default:
		fmt.Fprintf(b, "  settled: bill %d rows, net %s; journal net %s; difference %s\n",
			s.BillCount, s.BillNet.Yuan(), s.JournalNet.Yuan(), r.Difference().Yuan())
		for _, m := range agent.BillMatches() {
			if n := s.Counts[m]; n > 0 && m != agent.BillMatched {
				fmt.Fprintf(b, "    %s: %d (kioskctl bill --date %s --reconcile shows them)\n", m, n, r.Date)
			}
		}
	}
	b.WriteString("\n")
}

func figureObject(f agent.Figure) map[string]any {
	return map[string]any{"count": f.Count, "total": f.Total.Yuan(), "total_fen": f.Total}
}

func dayReportObject(r agent.DayReport) map[string]any {
	byState := map[string]any{}
	for s, f := range r.Payments {
		byState[string(s)] = figureObject(f)
	}
	obj := map[string]any{
		"date": r.Date, "payments": byState, "charged": figureObject(r.Charged), "refunds": figureObject(r.Refunds),
		"pending_refunds": figureObject(r.PendingRefunds), "offline": figureObject(r.Offline),
		"unconfirmed": figureObject(r.Unconfirmed), "declined": figureObject(r.Declined),
		"needs_review": figureObject(r.NeedsReview), "net": r.Net.Yuan(), "net_fen": r.Net,
	}
	if s := r.Settlement; s != nil {
		obj["settlement"] = map[string]any{
			"state": s.State, "reason": s.Reason, "attempts": s.Attempts, "bill_count": s.BillCount,
			"bill_net": s.BillNet.Yuan(), "bill_net_fen": s.BillNet, "journal_net": s.JournalNet.Yuan(),
			"journal_net_fen": s.JournalNet, "difference": r.Difference().Yuan(), "difference_fen": r.Difference(),
			"platform_only": s.Counts[agent.BillPlatformOnly], "journal_only": s.Counts[agent.BillJournalOnly],
			"mismatched": s.Mismatched(),
		}
	}
	return obj
}

// dayReportCSV is one row per day, amounts in yuan, for a spreadsheet.
func dayReportCSV(reps []agent.DayReport) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := []string{"date"}
	for _, name := range []string{"charged", "refunds", "pending_refunds", "offline", "unconfirmed", "declined", "needs_review"} {
		head = append(head, name+"_count", name+"_total")
	}
	head = append(head, "net", "settlement", "bill_net", "difference")
	_ = w.Write(head)
	for _, r := range reps {
		row := []string{r.Date}
		for _, f := range []agent.Figure{r.Charged, r.Refunds, r.PendingRefunds, r.Offline, r.Unconfirmed, r.Declined, r.NeedsReview} {
			row = append(row, strconv.Itoa(f.Count), f.Total.Yuan())
		}
		state, billNet := "", ""
		if s := r.Settlement; s != nil {
			state = string(s.State)
			if s.State == agent.SettlementDone {
				billNet = s.BillNet.Yuan()
			}
		}
		row = append(row, r.Net.Yuan(), state, billNet, r.Difference().Yuan())
		_ = w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}
