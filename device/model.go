package device

import "time"

// Kind says what a scanned text identifies; the agent maps it to the
// one-card query's idtype.
type Kind string

// The kinds of input.
const (
	// KindCard is a card number or UID from a card reader (idtype cardid).
	KindCard Kind = "card"
	// KindBarcode is a scanned code, such as the campus app's payment QR
	// code (idtype barcode).
	KindBarcode Kind = "barcode"
)

// Scan is one decoded, transformed and debounced read of one input.
type Scan struct {
	// Device is the name of the input the scan came from.
	Device string `json:"device"`
	// Kind is the input's kind.
	Kind Kind `json:"kind"`
	// Text is the scanned text after the input's transforms.
	Text string `json:"text"`
	// Time is when the last byte of the scan was read (for a replay: the
	// recorded time, shifted to the replay's start).
	Time time.Time `json:"time"`
	// Symbology is the AIM symbology identifier (such as "]Q1" for a QR
	// code) when the scanner reports one (HID POS), else empty.
	Symbology string `json:"symbology,omitempty"`
}

// Drop is something an input delivered that did not become a scan.
type Drop struct {
	// Device is the name of the input.
	Device string `json:"device"`
	// Reason says why, in words for a technician ("overlong frame",
	// "control byte 0x00 in frame", "does not match ^[0-9]{10}$").
	Reason string `json:"reason"`
	// Bytes is how many bytes were thrown away.
	Bytes int `json:"bytes"`
	// Time is when it was dropped.
	Time time.Time `json:"time"`
}

// Status is an input's state, readable at any time for the UI and
// diagnostics.
type Status struct {
	// Name is the input's name.
	Name string `json:"name"`
	// Spec is the spec the input was opened with.
	Spec string `json:"spec"`
	// Connected is true while the device is open.
	Connected bool `json:"connected"`
	// Path is the device node (serial port or HID path) of the current or
	// last connection, when there is one.
	Path string `json:"path,omitempty"`
	// LastError is the last open or read error, kept after a successful
	// reconnection so that a flaky cable shows.
	LastError string `json:"last_error,omitempty"`
	// Scans counts the scans delivered.
	Scans int `json:"scans"`
	// Dropped counts the drops.
	Dropped int `json:"dropped"`
	// Opens counts the successful opens; Reconnects those after the first
	// (a flaky cable or a re-plugged scanner).
	Opens      int `json:"opens"`
	Reconnects int `json:"reconnects"`
	// Repeats counts the scans swallowed by the debounce.
	Repeats int `json:"repeats"`
	// Since is when Connected last changed (or when the input was started).
	Since time.Time `json:"since"`
	// Ended is true when the input has stopped for good: a replay that
	// reached the end of its file, or a configuration error that retrying
	// cannot fix.
	Ended bool `json:"ended,omitempty"`
}

// EventType is the type of an Event.
type EventType string

// The types of events.
const (
	// EventScan: a scan; Scan is set.
	EventScan EventType = "scan"
	// EventConnected: the device was opened; Path says which node.
	EventConnected EventType = "connected"
	// EventDisconnected: the device went away or failed; Err says why.
	EventDisconnected EventType = "disconnected"
	// EventOpenFailed: opening failed (missing at start, unplugged); it
	// is retried with back-off unless Ended.
	EventOpenFailed EventType = "open_failed"
	// EventDrop: see Drop.
	EventDrop EventType = "drop"
	// EventRead: one raw read, only with Options.RawEvents.
	EventRead EventType = "read"
	// EventEnded: the input stopped for good (see Status.Ended).
	EventEnded EventType = "ended"
)

// Event is something that happened to an input: a scan, a drop, a
// connection, for the agent, the UI, logs and diagnostics.
type Event struct {
	// Type says what happened.
	Type EventType `json:"type"`
	// Device is the input's name.
	Device string `json:"device"`
	// Time is when it happened (for a scan or drop: when its last byte
	// was read).
	Time time.Time `json:"time"`
	// Scan is set on EventScan.
	Scan *Scan `json:"scan,omitempty"`
	// Path is set on EventConnected.
	Path string `json:"path,omitempty"`
	// Err is set on EventDisconnected, EventOpenFailed and EventEnded.
	Err error `json:"-"`
	// Drop is set on EventDrop.
	Drop *Drop `json:"drop,omitempty"`
	// Data is the bytes of an EventRead.
	Data []byte `json:"data,omitempty"`
}
