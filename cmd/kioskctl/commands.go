package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/cmd/internal/app"
)

// command declares its flags on fs and returns the function that runs it
// once the flags are parsed.
type command func(fs *flag.FlagSet) func(ctx context.Context, a *app.App, args []string) (result, error)

// kind is what a command may do on the platform, which decides what its
// failure means to the technician (exitCode).
type kind int

const (
	// repeatable leaves nothing on the platform for a person to confirm:
	// a failed call, even one whose reply was lost, is simply run again
	// (never exit 3). Most such commands are read-only: they change no
	// order or balance there (token --refresh fetches a token, which moves
	// no money). reconcile and bill --reconcile may resend payments and
	// refund orphan charges, but journal each outcome as they go, and the
	// reconciler's next pass confirms what this one could not.
	repeatable kind = iota
	// movesMoney charges or refunds (pay, refund): a request sent without
	// a trustworthy answer may have moved money, so its outcome is unknown
	// (exit 3) until confirmed.
	movesMoney
)

// commandSpec is a command and what it may do on the platform.
type commandSpec struct {
	kind kind
	run  command
}

// commands maps each command name to its command. Each says its kind: a
// new command that moves money must not fail as a repeatable one.
func commands() map[string]commandSpec {
	return map[string]commandSpec{
		"token":     {repeatable, tokenCmd},
		"card":      {repeatable, cardCmd},
		"pay":       {movesMoney, payCmd},
		"refund":    {movesMoney, refundCmd},
		"query":     {repeatable, queryCmd},
		"bill":      {repeatable, billCmd},
		"queue":     {repeatable, queueCmd},
		"reconcile": {repeatable, reconcileCmd},
		"resolve":   {repeatable, resolveCmd}, // asks pay.query, then changes the journal only
		"export":    {repeatable, exportCmd},
		"report":    {repeatable, reportCmd},
		"check":     {repeatable, checkCmd},
		"diag":      {repeatable, diagCmd},
		"status":    {repeatable, statusCmd},
	}
}

func noArgs(cmd string, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd, args)
	}
	return nil
}

func tokenCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	refresh := fs.Bool("refresh", false, "fetch a new token now (at most once per 2 minutes)")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("token", args); err != nil {
			return result{}, err
		}
		tm := a.Service.Platform().Tokens()
		var info agent.TokenInfo
		var err error
		if *refresh {
			info, err = tm.Refresh(ctx)
		} else {
			info, err = tm.Info(ctx)
		}
		if err != nil {
			return result{}, err
		}
		// Times in the platform's zone: that is the clock the technician
		// compares against the platform's logs.
		loc := a.Config.Platform.Location
		left := info.Expires.Sub(time.Now()).Round(time.Second)
		text := fmt.Sprintf("token valid until %s (%s left)\nlast token call %s\n",
			info.Expires.In(loc).Format(time.RFC3339), left, info.LastCall.In(loc).Format(time.RFC3339))
		if info.Fresh {
			text = "fetched a new token\n" + text
		}
		return result{text: text, obj: map[string]any{
			"expires": info.Expires.In(loc).Format(time.RFC3339), "expires_in_seconds": int64(left / time.Second),
			"last_call": info.LastCall.In(loc).Format(time.RFC3339), "fetched": info.Fresh,
		}}, nil
	}
}

func cardCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	idtype := fs.String("idtype", "", "identity type: "+strings.Join(onecard.IDTypes, " "))
	id := fs.String("id", "", "identity")
	var prompt promptFlag
	fs.Var(&prompt, "pwd-prompt", "read the card's password (terminal without echo, else one line of stdin) and send it as pwd")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		switch {
		case prompt.misused:
			return result{}, usagef("--pwd-prompt takes no value: the password is never given on the command line, --pwd-prompt asks for it")
		case len(args) > 0:
			// Not quoted: a password typed here must not be repeated.
			return result{}, usagef("card takes no arguments, got %d (a card password is never given on the command line: --pwd-prompt asks for it)", len(args))
		case *idtype == "" || *id == "":
			return result{}, usagef("card needs --idtype and --id")
		}
		if !prompt.on {
			cards, err := a.Service.QueryCard(ctx, agent.Identity{Type: *idtype, ID: *id})
			if err != nil {
				return result{}, err
			}
			return cardsResult(a, cards), nil
		}
		q := onecard.CardQuery{IDType: *idtype, ID: *id}
		if err := q.Validate(); err != nil {
			return result{}, err // before the password is asked for
		}
		con := consoleOf(ctx)
		pwd, err := readPassword(ctx, con.stdin, con.stderr)
		if err != nil {
			return result{}, err
		}
		q.Password = pwd
		cards, err := queryCardWithPassword(ctx, a, q)
		if wp, ok := errors.AsType[*wrongPasswordError](err); ok {
			return result{
				text: fmt.Sprintf("password: wrong (the platform answered %s)\n", wp.refusal.Retcode),
				obj:  map[string]any{"password": "wrong", "cards": []any{}},
			}, err
		}
		if err != nil {
			return result{}, err
		}
		out := cardsResult(a, cards)
		out.text += "password: right\n"
		out.obj.(map[string]any)["password"] = "right"
		return out, nil
	}
}

// cardsResult shows the cards of an identity.
func cardsResult(a *app.App, cards []agent.Card) result {
	now := a.Service.Options().Clock.Now().In(a.Service.Location())
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tBALANCE\tUNSETTLED\tSTATUS\tCARD TYPE\tEXPIRES\tQR")
	objs := make([]map[string]any, 0, len(cards))
	for _, cd := range cards {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cd.Account, cd.Name, cd.Balance.Yuan(),
			cd.Unsettled.Yuan(), cardStatus(cd, now), cd.CardName, cd.Expires, yesNo(cd.BarcodeEnabled))
		objs = append(objs, map[string]any{
			"account": cd.Account, "name": cd.Name, "balance": cd.Balance.Yuan(), "balance_fen": cd.Balance,
			"unsettle_amount": cd.Unsettled.Yuan(), "lost": cd.Lost, "frozen": cd.Frozen, "may_pay": cd.Refusal(now) == "",
			"card_type": cd.CardType, "card_name": cd.CardName, "expdate": cd.Expires,
			"barcode_enabled": cd.BarcodeEnabled, "sno": cd.SNo, "phone": agent.MaskAccount(cd.Phone), "cert": agent.MaskAccount(cd.Cert),
		})
	}
	tw.Flush()
	return result{text: b.String(), obj: map[string]any{"cards": objs}}
}

// cardStatus is "ok" for a card that may pay (agent.Card.Refusal), else
// why not, in capitals.
func cardStatus(cd agent.Card, now time.Time) string {
	if r := cd.Refusal(now); r != "" {
		return strings.ToUpper(string(r))
	}
	return "ok"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseAmount reads a yuan amount from the command line.
func parseAmount(s string) (money.Fen, error) {
	if s == "" {
		return 0, usagef("--amount is required (yuan, e.g. 12.34)")
	}
	a, err := money.ParseYuan(s)
	if err != nil {
		return 0, usagef("--amount: %v", err)
	}
	if a < 1 {
		return 0, usagef("--amount %s: the minimum is 0.01", s)
	}
	return a, nil
}

func orderResult(o agent.Order) result {
	var b strings.Builder
	fmt.Fprintf(&b, "order %s: %s\n", o.OrderNo, o.State)
	fmt.Fprintf(&b, "  amount   %s\n  account  %s (%s)\n", o.Amount.Yuan(), o.Account, o.AccType)
	if o.RefundOf != "" {
		fmt.Fprintf(&b, "  refunds  %s\n", o.RefundOf)
	}
	if o.OutID != "" {
		fmt.Fprintf(&b, "  out_id   %s\n", o.OutID)
	}
	if o.Kind == agent.KindPay && (o.Refunded > 0 || len(o.PendingRefunds) > 0) {
		fmt.Fprintf(&b, "  refunded %s\n", o.Refunded.Yuan())
	}
	if len(o.PendingRefunds) > 0 {
		fmt.Fprintf(&b, "  pending  %s (refunds not yet confirmed)\n", strings.Join(o.PendingRefunds, ", "))
	}
	if o.PlatformHas {
		fmt.Fprintf(&b, "  the platform said it already has this order number: unconfirmed until pay.query, the bill or a person settles it\n")
	}
	obj := map[string]any{
		"order_no": o.OrderNo, "kind": o.Kind, "state": o.State, "out_id": o.OutID,
		"amount": o.Amount.Yuan(), "amount_fen": o.Amount, "account": o.Account, "acctype": o.AccType,
		"mercacc": o.MercAcc, "termid": o.TermID,
	}
	if o.RefundOf != "" {
		obj["refund_order_no"] = o.RefundOf
	}
	addRefundFields(obj, o)
	return result{text: b.String(), obj: obj}
}

// orderOutcome shows the stored order even when the call failed, so that
// the technician sees its number and state.
func orderOutcome(o agent.Order, err error) (result, error) {
	if o.OrderNo == "" {
		return result{}, err
	}
	return orderResult(o), err
}

func payCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	account := fs.String("account", "", "one-card account to charge")
	amount := fs.String("amount", "", "amount in yuan, e.g. 12.34")
	acctype := fs.String("acctype", "", "account type (default from config, ### = card)")
	orderNo := fs.String("order-no", "", "order number (default: a fresh one)")
	remark := fs.String("remark", "", "remark")
	attach := fs.String("attach", "", "attach (returned in the bill)")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("pay", args); err != nil {
			return result{}, err
		}
		if *account == "" {
			return result{}, usagef("pay needs --account")
		}
		amt, err := parseAmount(*amount)
		if err != nil {
			return result{}, err
		}
		return orderOutcome(a.Service.Pay(ctx, agent.PayInput{
			Account: *account, AccType: *acctype, Amount: amt, OrderNo: *orderNo, Remark: *remark, Attach: *attach,
			// A technician's payment: no card password asked (issue 15).
			Attended: true,
		}))
	}
}

func refundCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	orig := fs.String("order-no", "", "the original payment's order number")
	amount := fs.String("amount", "", "amount to refund in yuan")
	refundNo := fs.String("refund-no", "", "the refund's own order number (default: a fresh one)")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("refund", args); err != nil {
			return result{}, err
		}
		if *orig == "" {
			return result{}, usagef("refund needs --order-no (the original payment)")
		}
		amt, err := parseAmount(*amount)
		if err != nil {
			return result{}, err
		}
		o, err := a.Service.Refund(ctx, *orig, amt, *refundNo)
		if blocked, ok := errors.AsType[*agent.RefundBlockedError](err); ok {
			return blockedRefund(blocked, a.Config.Platform.Location), err
		}
		return orderOutcome(o, err)
	}
}

func queryCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	account := fs.String("account", "", "account for orders this terminal has no record of")
	acctype := fs.String("acctype", "", "acctype with --account (default from config)")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if len(args) == 0 {
			return result{}, usagef("query needs at least one ORDER_NO")
		}
		// A batch that failed leaves the answers of those before it.
		res, err := a.Service.Query(ctx, args, *account, *acctype)
		if res == nil {
			return result{}, err
		}
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ORDER_NO\tLOCAL\tPLATFORM\tAMOUNT\tOUT_ID\tNOTE")
		objs := make([]map[string]any, 0, len(res))
		code := exitOK
		for _, r := range res {
			local, platform, amount, outID, note := "unknown locally", "not asked", "", "", ""
			obj := map[string]any{"order_no": r.OrderNo}
			if r.Local != nil {
				local, amount, outID, note = string(r.Local.State), r.Local.Amount.Yuan(), r.Local.OutID, orderNote(*r.Local)
				obj["local_state"] = r.Local.State
				addRefundFields(obj, *r.Local)
			}
			if r.Status != nil {
				platform = fmt.Sprintf("%s %s", string(r.Status.Status), r.Status.Status)
				if r.Status.Amount != 0 {
					amount = r.Status.Amount.Yuan()
				}
				if r.Status.OutID != "" {
					outID = r.Status.OutID
				}
				obj["order_status"], obj["status"], obj["order_desc"] = string(r.Status.Status), r.Status.Status.String(), r.Status.Desc
			} else {
				reason, why := notAsked(r, *account, err)
				if reason == notInJournal {
					code = exitUsage
				}
				obj["status"], obj["reason"], obj["why"] = "not_asked", reason, why
				note = strings.TrimPrefix(note+"; "+why, "; ")
			}
			obj["amount"], obj["out_id"] = amount, outID
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.OrderNo, local, platform, amount, outID, note)
			objs = append(objs, obj)
		}
		tw.Flush()
		return result{text: b.String(), obj: map[string]any{"orders": objs}, code: code}, err
	}
}

// Why query reports an order without the platform's answer.
const (
	// notInJournal: the terminal has no record of it and no --account
	// was given; the platform is never asked with an empty account.
	notInJournal = "not_in_journal"
	// noAnswer: the pay.query of its batch, or of an earlier one, failed
	// (the error is the command's).
	noAnswer = "no_answer"
)

// notAsked says why r has no answer from the platform, and what to do;
// err is the query's.
func notAsked(r agent.QueryResult, account string, err error) (reason, why string) {
	if r.Local == nil && account == "" {
		return notInJournal, "not in the journal: give --account (and --acctype) to ask the platform"
	}
	why = "pay.query failed before answering about it"
	if platformFailed(err) {
		why += ": try again"
	}
	return noAnswer, why
}

func billCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	date := fs.String("date", "", "bill date, YYYYMMDD")
	typ := fs.String("type", onecard.BillAll, "ALL or SUCCESS")
	crypt := fs.String("crypt", "0", "0 plain, 1 DES-encrypted transfer")
	out := fs.String("out", "", "write the (decrypted) bill text to this file")
	reconcile := fs.Bool("reconcile", false, "compare the day's bill with the journal, act on it and save the report")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("bill", args); err != nil {
			return result{}, err
		}
		if *reconcile {
			rep, err := a.Service.ReconcileBill(ctx, *date)
			if err != nil {
				return result{}, err
			}
			return billReport(rep), nil
		}
		if *crypt != "0" && *crypt != "1" {
			return result{}, usagef("--crypt must be 0 or 1")
		}
		bill, text, err := a.Service.Bill(ctx, onecard.BillRequest{Date: *date, Type: strings.ToUpper(*typ), Encrypted: *crypt == "1"})
		if err != nil {
			return result{}, err
		}
		if *out != "" {
			if err := os.WriteFile(*out, text, 0o600); err != nil {
				return result{}, usagef("--out: %v", err)
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "bill %s (%s): %d rows, total %s — count and total check out\n", *date, strings.ToUpper(*typ), bill.Count, bill.Total.Yuan())
		rows := make([]map[string]any, 0, len(bill.Rows))
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		if len(bill.Rows) > 0 {
			fmt.Fprintln(tw, "TIME\tORDER_NO\tOUT_ID\tTYPE\tSTATUS\tAMOUNT")
		}
		for _, r := range bill.Rows {
			kind := "pay"
			if r.Type == onecard.BillTypeRefund {
				kind = "refund"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.Format("2006-01-02 15:04:05"), r.OrderNo, r.OutID, kind, r.Status, r.Amount.Yuan())
			rows = append(rows, map[string]any{
				"time": r.Time.Format(onecard.BillTimeLayout), "account": r.Account, "acctype": r.AccType,
				"mercacc": r.MercAcc, "out_id": r.OutID, "order_no": r.OrderNo, "type": r.Type,
				"status": r.Status, "amount": r.Amount.Yuan(), "attach": r.Attach,
			})
		}
		tw.Flush()
		if *out != "" {
			fmt.Fprintf(&b, "bill text written to %s\n", *out)
		}
		obj := map[string]any{"date": *date, "type": strings.ToUpper(*typ), "count": bill.Count, "total": bill.Total.Yuan(), "rows": rows}
		if *out != "" {
			obj["out"] = *out
		}
		return result{text: b.String(), obj: obj}, nil
	}
}

// billReport prints a bill reconciliation report.
func billReport(rep agent.BillReport) result {
	var b strings.Builder
	fmt.Fprintf(&b, "bill %s: %d rows, total %s\n", rep.Date, rep.BillCount, rep.BillTotal.Yuan())
	counts := map[string]int{}
	for _, m := range agent.BillMatches() {
		fmt.Fprintf(&b, "  %-16s %d\n", m, rep.Counts[m])
		counts[string(m)] = rep.Counts[m]
	}
	lines := make([]map[string]any, 0, len(rep.Lines))
	if len(rep.Lines) > 0 {
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ORDER_NO\tMATCH\tJOURNAL\tBILL\tNOTE")
		for _, l := range rep.Lines {
			journal, bill := "-", "-"
			if l.JournalState != "" {
				journal = fmt.Sprintf("%s %s", l.JournalState, l.JournalAmount.Yuan())
			}
			if l.BillStatus != "" {
				bill = fmt.Sprintf("%s/%s %s", l.BillType, l.BillStatus, l.BillAmount.Yuan())
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.OrderNo, l.Match, journal, bill, l.Note)
			lines = append(lines, map[string]any{
				"order_no": l.OrderNo, "match": l.Match, "journal_state": l.JournalState, "journal_amount": l.JournalAmount.Yuan(),
				"bill_type": l.BillType, "bill_status": l.BillStatus, "bill_amount": l.BillAmount.Yuan(), "out_id": l.OutID, "note": l.Note,
			})
		}
		tw.Flush()
	} else {
		b.WriteString("journal and bill agree\n")
	}
	return result{text: b.String(), obj: map[string]any{
		"date": rep.Date, "bill_count": rep.BillCount, "bill_total": rep.BillTotal.Yuan(), "counts": counts, "lines": lines,
	}}
}
