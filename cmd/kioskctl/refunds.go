package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
)

// step is a command that helps settle an unconfirmed refund, and why.
type step struct{ cmd, why string }

// blockedRefund shows a refund refused because an earlier refund of the
// payment is unconfirmed: each such refund, and the commands that settle
// it. Nothing was sent, so nothing is unknown about the refusal itself.
// loc is the platform's zone, whose days the bill is cut by.
func blockedRefund(e *agent.RefundBlockedError, loc *time.Location) result {
	steps := []step{{"kioskctl reconcile", "settles what the platform can answer now"}}
	add := func(s step) {
		if !slices.ContainsFunc(steps, func(have step) bool { return have.cmd == s.cmd }) {
			steps = append(steps, s)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "unconfirmed refunds of payment %s:\n", e.OrderNo)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	pending := make([]map[string]any, 0, len(e.Pending))
	for _, r := range e.Pending {
		fmt.Fprintf(tw, "  %s\t%s\t%s", r.OrderNo, r.State, r.Amount.Yuan())
		if r.PlatformHas {
			fmt.Fprint(tw, "\tthe platform said it already has this number")
		}
		fmt.Fprintln(tw)
		pending = append(pending, map[string]any{
			"order_no": r.OrderNo, "state": r.State, "amount": r.Amount.Yuan(), "amount_fen": r.Amount, "platform_has": r.PlatformHas,
		})
		add(step{"kioskctl query " + r.OrderNo, "what the platform says of it"})
		if r.State == agent.StateNeedsReview {
			add(step{"kioskctl resolve " + r.OrderNo + " --as paid|declined --note ...",
				r.OrderNo + " needs review: a person ends it with what the platform says"})
		}
		if r.PlatformHas {
			day := r.Created.In(loc).Format(onecard.BillDateLayout)
			add(step{"kioskctl bill --date " + day + " --reconcile",
				"pay.query may not know refund numbers: the day's bill decides " + r.OrderNo})
		}
	}
	tw.Flush()
	b.WriteString("settle them first, then refund again only if the student is still owed money:\n")
	next := make([]string, len(steps))
	for i, s := range steps {
		fmt.Fprintf(tw, "  %s\t%s\n", s.cmd, s.why)
		next[i] = s.cmd
	}
	tw.Flush()
	return result{advice: b.String(), obj: map[string]any{
		"order_no": e.OrderNo, "pending_refunds": pending, "next_steps": next,
	}}
}

// addRefundFields adds what the journal knows of an order's refunds to its
// JSON object: a payment's refunded amount and unconfirmed refunds, and
// whether the platform said it has the order's number.
func addRefundFields(obj map[string]any, o agent.Order) {
	if o.Kind == agent.KindPay {
		obj["refunded"], obj["refunded_fen"] = o.Refunded.Yuan(), o.Refunded
		obj["pending_refunds"] = append([]string{}, o.PendingRefunds...)
		obj["refunds_started"] = o.RefundsStarted
	}
	obj["platform_has"] = o.PlatformHas
}

// orderNote is what the journal knows of an order's refunds, and whether
// the platform said it has the order's number, for a table's NOTE column:
// "refunded 5.00, pending 123R2", "refund of 123, platform has it".
func orderNote(o agent.Order) string {
	var parts []string
	if o.Refunded > 0 {
		parts = append(parts, "refunded "+o.Refunded.Yuan())
	}
	if len(o.PendingRefunds) > 0 {
		parts = append(parts, "pending "+strings.Join(o.PendingRefunds, " "))
	}
	if o.RefundOf != "" {
		parts = append(parts, "refund of "+o.RefundOf)
	}
	if o.PlatformHas {
		parts = append(parts, "platform has it")
	}
	return strings.Join(parts, ", ")
}
