package status

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/device"
)

// Document is the /status document, for a client to decode (kioskctl).
// Amounts are in yuan, as strings ("12.34"), as kioskctl --json writes
// them (the settlement's nets in fen as well, never a float); a part that
// could not be read is null and its error is in Errors.
// It holds no card number, name or token, and no text the platform sent
// (a message may name a card holder).
type Document struct {
	Time      time.Time `json:"time"`
	Version   string    `json:"version"`
	GoVersion string    `json:"go_version"`
	// Mode is terminal.mode: canteen or kiosk.
	Mode   string `json:"mode"`
	TermID string `json:"termid"`
	// Status and Reasons are /healthz's.
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`

	Online      bool         `json:"online"`
	OnlineSince time.Time    `json:"online_since"`
	Token       *TokenExpiry `json:"token"`
	ClockOffset *ClockOffset `json:"clock_offset"`

	// Unfinished counts the unfinished orders by state, every unfinished
	// state present.
	Unfinished map[agent.OrderState]int `json:"unfinished"`
	// OldestUnfinished is when the oldest unfinished order was created.
	OldestUnfinished *time.Time `json:"oldest_unfinished"`
	// NeedsReview is null when the journal's counts could not be read.
	NeedsReview *int    `json:"needs_review"`
	Offline     Offline `json:"offline"`

	Devices []device.Status `json:"devices"`
	// LastReconcile is null before the reconciler's first pass.
	LastReconcile *Reconcile `json:"last_reconcile"`
	// Settlement is the daily settlement of the catch-up window.
	Settlement Settlement  `json:"settlement"`
	Journal    JournalFile `json:"journal"`
	// Errors says what could not be read.
	Errors []string `json:"errors,omitempty"`
}

// TokenExpiry is the stored access token's expiry, never the token.
type TokenExpiry struct {
	Expires          time.Time `json:"expires"`
	ExpiresInSeconds int64     `json:"expires_in_seconds"`
}

// ClockOffset is the platform's clock minus the terminal's, from the
// latest reply's Date header (to its second), and when that reply came.
type ClockOffset struct {
	Seconds float64   `json:"seconds"`
	At      time.Time `json:"at"`
}

// Offline is the offline exposure (payments accepted offline and not yet
// settled) against the offline limits.
type Offline struct {
	Enabled       bool    `json:"enabled"`
	Count         *int    `json:"count"`
	Amount        *string `json:"amount"`
	MaxCount      int     `json:"max_count"`
	MaxTotal      string  `json:"max_total"`
	MaxAmount     string  `json:"max_amount"`
	MaxPerCardDay string  `json:"max_per_card_day"`
	CardMaxAge    string  `json:"card_max_age"`
}

// Reconcile sums up the latest reconciler pass.
type Reconcile struct {
	At     time.Time `json:"at"`
	Looked int       `json:"looked"`
	// Settled counts the pass's state changes by the state reached.
	Settled    map[agent.OrderState]int `json:"settled"`
	Unfinished int                      `json:"unfinished"`
	// Error is why the pass stopped early, if it did.
	Error string `json:"error,omitempty"`
}

// JournalFile is the journal's file.
type JournalFile struct {
	Path      string `json:"path"`
	SizeBytes *int64 `json:"size_bytes"`
}

// statusOf words a snapshot as /status shows it.
func (s *Server) statusOf(sn *snapshot) Document {
	why := reasons(sn)
	d := Document{
		Time: sn.now, Version: s.version, GoVersion: runtime.Version(),
		Mode: s.cfg.Terminal.Mode, TermID: s.cfg.Terminal.TermID,
		Status: healthStatus(why), Reasons: why,
		Online: sn.online, OnlineSince: sn.onlineSince,
		Unfinished: sn.unfinished,
		Devices:    sn.devices,
		Journal:    JournalFile{Path: sn.journalPath},
		Errors:     sn.errs,
		Settlement: settlementOf(sn),
	}
	if d.Devices == nil {
		d.Devices = []device.Status{}
	}
	if !sn.tokenExpires.IsZero() {
		d.Token = &TokenExpiry{Expires: sn.tokenExpires, ExpiresInSeconds: int64(sn.tokenExpires.Sub(sn.now) / time.Second)}
	}
	if sn.clockKnown {
		d.ClockOffset = &ClockOffset{Seconds: sn.clockOffset.Seconds(), At: sn.clockAt}
	}
	if !sn.oldest.IsZero() {
		d.OldestUnfinished = &sn.oldest
	}
	if sn.reviewOK {
		d.NeedsReview = &sn.review
	}
	p := sn.offline
	d.Offline = Offline{Enabled: p.Enabled, MaxCount: p.MaxCount, MaxTotal: p.MaxTotal.Yuan(), MaxAmount: p.MaxAmount.Yuan(),
		MaxPerCardDay: p.MaxPerCardDay.Yuan(), CardMaxAge: p.CardMaxAge.String()}
	if sn.exposureOK {
		amount := sn.exposure.Amount.Yuan()
		d.Offline.Count, d.Offline.Amount = &sn.exposure.Count, &amount
	}
	if sn.reconcileOK {
		r := sn.reconcile
		rd := &Reconcile{At: r.At, Looked: r.Report.Looked, Unfinished: r.Report.Unfinished, Settled: map[agent.OrderState]int{}}
		for _, st := range r.Report.Settled {
			rd.Settled[st.To]++
		}
		if r.Err != nil {
			rd.Error = errorSummary(r.Err)
		}
		d.LastReconcile = rd
	}
	if sn.sizeOK {
		d.Journal.SizeBytes = &sn.journalSize
	}
	return d
}

// errorSummary words a reconciler pass's error without any text the
// platform sent: a declined call by its retcode, a bare-text or
// undecodable reply by what it was. Other errors (transport, journal)
// carry only the terminal's own text.
func errorSummary(err error) string {
	var (
		be *onecard.BusinessError
		te *onecard.TextError
		de *onecard.DecodeError
	)
	switch {
	case errors.As(err, &be):
		return fmt.Sprintf("onecard %s: declined by platform (retcode %s: %s)", be.Method, be.Retcode, onecard.RetcodeText(be.Retcode))
	case errors.As(err, &te):
		return fmt.Sprintf("onecard %s: platform answered with text (HTTP %d)", te.Method, te.Status)
	case errors.As(err, &de):
		return fmt.Sprintf("onecard %s: undecodable reply: %s", de.Method, de.What)
	}
	return err.Error()
}
