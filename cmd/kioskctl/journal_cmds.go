package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/cmd/internal/app"
)

func queueCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	state := fs.String("state", "", "only orders in this state ("+stateNames()+")")
	limit := fs.Int("limit", 50, "at most this many orders (0: all)")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("queue", args); err != nil {
			return result{}, err
		}
		if *state != "" && !agent.OrderState(*state).Known() {
			return result{}, usagef("--state %q: want one of %s", *state, stateNames())
		}
		orders, err := a.Store.Orders(ctx, agent.OrderFilter{State: agent.OrderState(*state), Limit: *limit})
		if err != nil {
			return result{}, err
		}
		loc := a.Config.Platform.Location
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CREATED\tORDER_NO\tKIND\tSTATE\tAMOUNT\tACCOUNT\tOUT_ID\tATTEMPTS\tLAST ERROR\tNOTE")
		objs := make([]map[string]any, 0, len(orders))
		for _, o := range orders {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", o.Created.In(loc).Format("01-02 15:04:05"), o.OrderNo, o.Kind,
				o.State, o.Amount.Yuan(), agent.MaskAccount(o.Account), o.OutID, o.Attempts, agent.Shorten(o.LastError, 60), orderNote(o))
			obj := map[string]any{
				"order_no": o.OrderNo, "kind": o.Kind, "state": o.State, "amount": o.Amount.Yuan(), "amount_fen": o.Amount,
				"account": agent.MaskAccount(o.Account), "out_id": o.OutID, "created": o.Created.In(loc).Format(time.RFC3339),
				"attempts": o.Attempts, "last_error": o.LastError, "refund_of": o.RefundOf,
			}
			addRefundFields(obj, o)
			objs = append(objs, obj)
		}
		tw.Flush()
		if len(orders) == 0 {
			b.Reset()
			b.WriteString("no orders\n")
		}
		return result{text: b.String(), obj: map[string]any{"orders": objs}}, nil
	}
}

func stateNames() string {
	names := make([]string, len(agent.States()))
	for i, s := range agent.States() {
		names[i] = string(s)
	}
	return strings.Join(names, " ")
}

func reconcileCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("reconcile", args); err != nil {
			return result{}, err
		}
		rep, err := a.Service.ReconcileAll(ctx)
		var b strings.Builder
		fmt.Fprintf(&b, "looked at %d due orders, settled %d, %d still unfinished\n", rep.Looked, len(rep.Settled), rep.Unfinished)
		settled := make([]map[string]any, 0, len(rep.Settled))
		for _, s := range rep.Settled {
			fmt.Fprintf(&b, "  %s %s: %s → %s (%s)\n", s.Kind, s.OrderNo, s.From, s.To, s.Note)
			settled = append(settled, map[string]any{"order_no": s.OrderNo, "kind": s.Kind, "from": s.From, "to": s.To, "note": s.Note})
		}
		return result{text: b.String(), obj: map[string]any{"looked": rep.Looked, "settled": settled, "unfinished": rep.Unfinished}}, err
	}
}

func exportCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	from := fs.String("from", "", "first day, YYYYMMDD (platform time)")
	to := fs.String("to", "", "last day, YYYYMMDD, inclusive (default: --from)")
	out := fs.String("out", "", "write the CSV here instead of stdout")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("export", args); err != nil {
			return result{}, err
		}
		if *to == "" {
			*to = *from
		}
		loc := a.Config.Platform.Location
		start, err := time.ParseInLocation("20060102", *from, loc)
		if err != nil {
			return result{}, usagef("--from %q is not a day YYYYMMDD", *from)
		}
		end, err := time.ParseInLocation("20060102", *to, loc)
		if err != nil || end.Before(start) {
			return result{}, usagef("--to %q is not a day YYYYMMDD on or after --from", *to)
		}
		var buf bytes.Buffer
		if err := a.Store.ExportCSV(ctx, &buf, start, end.AddDate(0, 0, 1), loc); err != nil {
			return result{}, err
		}
		if *out == "" {
			return result{raw: buf.Bytes()}, nil
		}
		if err := os.WriteFile(*out, buf.Bytes(), 0o600); err != nil {
			return result{}, usagef("--out: %v", err)
		}
		return result{text: fmt.Sprintf("exported %s–%s to %s\n", *from, *to, *out), obj: map[string]any{"out": *out}}, nil
	}
}

func checkCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("check", args); err != nil {
			return result{}, err
		}
		start := time.Now()
		if err := a.Store.CheckAll(ctx); err != nil {
			return result{}, fmt.Errorf("the terminal database is damaged: %w (keep the file; do not take payments on it)", err)
		}
		took := time.Since(start).Round(time.Millisecond)
		return result{text: fmt.Sprintf("database %s: every page, order and index checks out (%s)\n", a.Config.Store.Path, took),
			obj: map[string]any{"ok": true, "path": a.Config.Store.Path, "seconds": took.Seconds()}}, nil
	}
}

// resolveCmd ends the review of a needs_review order with what a person
// found, once the platform agrees (agent.Service.Resolve).
func resolveCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	as := fs.String("as", "", "the state it became: paid, orphan_charged (refund it), refunded, orphan_refunded, declined, voided, failed_after_offline")
	note := fs.String("note", "", "who looked and what they found (kept in the order's history)")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if len(args) != 1 {
			return result{}, usagef("resolve takes one ORDER_NO, got %d", len(args))
		}
		to := agent.OrderState(*as)
		if !slices.Contains(agent.States(), to) {
			return result{}, usagef("resolve: --as %q is not an order state", *as)
		}
		if strings.TrimSpace(*note) == "" {
			return result{}, usagef("resolve: --note is required: who looked, and what they found")
		}
		// Refused, or the platform could not be asked: a resolution is one
		// commit after a read-only query, so nothing changed (and no
		// payment's outcome is at stake: resolve is repeatable).
		o, err := a.Service.Resolve(ctx, args[0], to, *note)
		if err != nil {
			return result{}, err
		}
		text := fmt.Sprintf("order %s: needs_review → %s\n", o.OrderNo, o.State)
		if o.State == agent.StateOrphanCharged {
			text += fmt.Sprintf("the reconciler refunds it as %s (kioskctl reconcile does it now)\n", o.RefundOrderNo)
		}
		return result{text: text, obj: map[string]any{"order_no": o.OrderNo, "state": o.State, "refund_order_no": o.RefundOrderNo, "out_id": o.OutID}}, nil
	}
}
