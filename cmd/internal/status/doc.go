// Package status is the kiosk's local status endpoint and its Prometheus
// metrics: a Server answering /healthz, /status and /metrics over HTTP on
// the status.listen address of the configuration, and Metrics, the
// counters fed by the agent's hooks (app.Hooks).
//
// When status.token is set every request must carry "Authorization: Bearer
// <token>"; others get 401 with a WWW-Authenticate challenge. Nothing the
// endpoint answers holds a card number, a name, a token or a text the
// platform sent: there are no per-card labels, and errors of the platform
// are shown by their codes.
//
// GET /healthz answers 200 {"status":"ready","reasons":[]} or 503
// {"status":"degraded","reasons":[...]}; each reason starts with its code:
//
//   - platform_offline: the last platform exchange could not reach the
//     platform (since when). Payments are refused or, in canteen mode,
//     accepted offline within the limits.
//   - device_disconnected: a configured scanner or card reader is not open
//     (unplugged, failing, or stopped for good), with its name.
//   - needs_review: orders wait for a person (how many).
//   - clock_offset: the platform's clock, from its latest reply, differs
//     from the terminal's by more than agent.ClockOffsetLimit (3 minutes, half
//     the 6 past which the platform refuses requests).
//   - journal_unreadable: the journal's order counts or unfinished orders
//     could not be read.
//   - settlement_failed: yesterday's settlement failed more than once and
//     its last attempt came SettlementFailingAfter (3 hours) past its
//     settlement time (settlement.at plus settlement.jitter).
//   - settlement_mismatch: the bill of the last settled day has
//     platform_only rows, or rows whose amount or status disagrees with
//     the journal.
//   - font_missing: the screens show characters that no loaded font has
//     (ui.Kiosk.MissingGlyphs: the catalogue of either language, the
//     menu), drawn as boxes; how many, and the first few with their code
//     points.
//
// Orders merely unfinished (unknown, offline_accepted) are normal work for
// the reconciler and no reason: /status and /metrics show them.
//
// GET /status answers one JSON document: time, version, mode, termid, the
// health status and reasons, online and since when, the stored token's
// expiry, the clock offset, unfinished orders by state and the oldest one's
// creation, the needs_review count, the offline exposure against the
// offline limits, the devices, the latest reconciler pass, the daily
// settlement (the last day with a report, every day of the catch-up window
// and the days not settled), and the journal file's size.
//
// GET /metrics answers the Prometheus text format from a registry of the
// Server's own: the Go and process collectors, Metrics' counters
// (kiosk_payments_total by outcome, kiosk_order_transitions_total,
// kiosk_platform_request_duration_seconds and kiosk_platform_errors_total
// by method) and gauges read at scrape time (platform online, clock offset,
// token expiry, unfinished orders by state, oldest unfinished order's age,
// needs_review orders, journal size and readability, offline exposure and
// limits in fen, each device's state and counts, the latest reconciler
// pass, build info, and the settlement: whether it is on, the latest
// success, the days behind, the last settled day's mismatches and nets)
// and, with screens, kiosk_font_missing (1 while font_missing holds).
//
// Every request reads the journal's counts of orders by state (kept by the
// store in the transaction of each write: O(states)) and its unfinished
// index (O(unfinished)), never a walk of every order.
package status
