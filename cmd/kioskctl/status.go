package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/money"
	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/cmd/internal/status"
)

// statusTimeout bounds the request to the kiosk: its endpoint answers
// from memory and the journal, in well under a second.
const statusTimeout = 10 * time.Second

// statusCmd asks the running kiosk how it is, through its status endpoint:
// the store is the kiosk's while it runs, so this is how a technician sees
// its journal counts, token, clock and devices without stopping it. Exit
// 0 ready, 1 degraded or unreachable, 2 no endpoint configured.
func statusCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if err := noArgs("status", args); err != nil {
			return result{}, err
		}
		if a.Config == nil {
			return result{}, a.ConfigErr
		}
		st := a.Config.Status
		if st.Listen == "" {
			return result{}, usagef("status.listen is not set in %s: the kiosk serves no status endpoint", a.Config.File)
		}
		doc, raw, err := fetchStatus(ctx, dialAddr(st.Listen), st.Token)
		if err != nil {
			return result{}, &diagError{err}
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return result{}, &diagError{fmt.Errorf("the kiosk's /status is not JSON: %w", err)}
		}
		r := result{text: statusText(doc), obj: obj}
		if doc.Status != status.StatusReady {
			r.code = exitDeclined
		}
		return r, nil
	}
}

// dialAddr is where to reach a listen address from this machine: an
// unspecified host (":9108", "0.0.0.0:9108") is reached on loopback.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// fetchStatus GETs /status. A degraded kiosk still answers 200 with its
// reasons; anything else is the endpoint's failure.
func fetchStatus(ctx context.Context, addr, token string) (status.Document, []byte, error) {
	var doc status.Document
	body, err := fetchKiosk(ctx, addr, token, "/status")
	if err != nil {
		return doc, nil, err
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return doc, nil, fmt.Errorf("the kiosk's /status: %w", err)
	}
	return doc, body, nil
}

// fetchJSON GETs path from the kiosk's status endpoint and decodes it
// into v.
func fetchJSON(ctx context.Context, addr, token, path string, v any) error {
	body, err := fetchKiosk(ctx, addr, token, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the kiosk's %s: %w", path, err)
	}
	return nil
}

// fetchKiosk GETs path from the kiosk's status endpoint at addr and
// returns the body of a 200 answer.
func fetchKiosk(ctx context.Context, addr, token, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("no kiosk answers on %s (is it running? its log says where its status endpoint listens): %w", addr, err)
		}
		return nil, fmt.Errorf("asking the kiosk on %s: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the kiosk's answer: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("the kiosk on %s refused the status token (status.token or status.token_file must match the kiosk's)", addr)
	}
	return nil, fmt.Errorf("the kiosk on %s answered %s: %s", addr, resp.Status, strings.TrimSpace(string(body)))
}

// statusText words the document for a technician, most urgent first.
func statusText(d status.Document) string {
	var b strings.Builder
	fmt.Fprintf(&b, "terminal %s (%s), version %s: %s\n", d.TermID, d.Mode, d.Version, d.Status)
	for _, r := range d.Reasons {
		fmt.Fprintf(&b, "  ! %s\n", r)
	}
	online := "online"
	if !d.Online {
		online = "OFFLINE"
	}
	fmt.Fprintf(&b, "platform: %s since %s\n", online, d.OnlineSince.Format(time.RFC3339))
	if d.Token != nil {
		fmt.Fprintf(&b, "token: valid until %s (%s left)\n", d.Token.Expires.Format(time.RFC3339), time.Duration(d.Token.ExpiresInSeconds)*time.Second)
	} else {
		b.WriteString("token: none stored\n")
	}
	if d.ClockOffset != nil {
		fmt.Fprintf(&b, "clock offset to the platform: %+.0fs (measured %s)\n", d.ClockOffset.Seconds, d.ClockOffset.At.Format(time.RFC3339))
	}
	var parts []string
	for _, s := range agent.States() {
		if n := d.Unfinished[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	fmt.Fprintf(&b, "unfinished orders: %s\n", strings.Join(parts, ", "))
	if d.OldestUnfinished != nil {
		fmt.Fprintf(&b, "oldest unfinished order: created %s\n", d.OldestUnfinished.Format(time.RFC3339))
	}
	if d.NeedsReview != nil {
		fmt.Fprintf(&b, "needs review: %d\n", *d.NeedsReview)
	}
	if o := d.Offline; o.Enabled && o.Count != nil && o.Amount != nil {
		fmt.Fprintf(&b, "accepted offline, unconfirmed: %d orders, %s (limits: %d orders, %s in all)\n", *o.Count, *o.Amount, o.MaxCount, o.MaxTotal)
	}
	for _, dev := range d.Devices {
		state := "connected"
		if !dev.Connected {
			state = "NOT CONNECTED"
		}
		fmt.Fprintf(&b, "device %s: %s, %d scans, %d dropped, %d reconnects", dev.Name, state, dev.Scans, dev.Dropped, dev.Reconnects)
		if dev.LastError != "" {
			fmt.Fprintf(&b, " (last error: %s)", dev.LastError)
		}
		b.WriteString("\n")
	}
	if r := d.LastReconcile; r != nil {
		var settled []string
		for _, s := range agent.States() {
			if n := r.Settled[s]; n > 0 {
				settled = append(settled, fmt.Sprintf("%s %d", s, n))
			}
		}
		fmt.Fprintf(&b, "last reconcile: %s, looked at %d, settled [%s], %d left", r.At.Format(time.RFC3339), r.Looked, strings.Join(settled, ", "), r.Unfinished)
		if r.Error != "" {
			fmt.Fprintf(&b, " (stopped: %s)", r.Error)
		}
		b.WriteString("\n")
	}
	settlementText(&b, d.Settlement)
	if d.Journal.SizeBytes != nil {
		fmt.Fprintf(&b, "journal: %s, %d bytes\n", d.Journal.Path, *d.Journal.SizeBytes)
	}
	for _, e := range d.Errors {
		fmt.Fprintf(&b, "could not read: %s\n", e)
	}
	return b.String()
}

// settlementText words the last settlement and the days not settled.
func settlementText(b *strings.Builder, st status.Settlement) {
	on := "on"
	if !st.Enabled {
		on = "off"
	}
	fmt.Fprintf(b, "settlement: %s", on)
	switch l := st.Last; {
	case st.Days == nil:
		b.WriteString(", not read\n")
		return
	case l == nil:
		b.WriteString(", no day of the catch-up window settled\n")
	case l.State == agent.SettlementFailed:
		fmt.Fprintf(b, "; last %s FAILED after %d attempts", l.Date, l.Attempts)
		if l.FinishedAt != nil {
			fmt.Fprintf(b, ", the last at %s", l.FinishedAt.Format(time.RFC3339))
		}
		fmt.Fprintf(b, ": %s\n", l.Reason)
	default:
		fmt.Fprintf(b, "; last %s %s", l.Date, l.State)
		if l.FinishedAt != nil {
			fmt.Fprintf(b, " at %s", l.FinishedAt.Format(time.RFC3339))
		}
		fmt.Fprintf(b, ": %d matched, %d platform_only, %d journal_only, %d mismatched; bill %d rows (all terminals)\n",
			l.Matched, l.PlatformOnly, l.JournalOnly, l.Mismatched, l.BillCount)
		diff := money.Fen(l.BillNetFen - l.JournalNetFen).Yuan()
		if l.BillNetFen > l.JournalNetFen {
			diff = "+" + diff
		}
		fmt.Fprintf(b, "  net: journal %s, bill %s, difference (bill - journal) %s\n", l.JournalNet, l.BillNet, diff)
	}
	unsettled := "none"
	if len(st.Unsettled) > 0 {
		unsettled = strings.Join(st.Unsettled, ", ")
	}
	fmt.Fprintf(b, "unsettled days: %s\n", unsettled)
}
