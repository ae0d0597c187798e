// Package archtest holds no code, only a test: it checks the import rules
// written in docs/ARCHITECTURE.md (section "Import rules") against the
// module's real import graph, read with one `go list` call. The page is the
// single statement of the rules; change the page and the test follows.
//
//	go test ./cmd/internal/archtest/ -v
//
// shows, besides any broken rule, which of the redesign's target rules
// (issue 12) do not hold yet.
package archtest
