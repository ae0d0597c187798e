package agent

import (
	"context"
	"fmt"
	"regexp"
	"time"
)

// Scan kinds, as the scanners report them.
const (
	ScanCard    = "card"
	ScanBarcode = "barcode"
)

// Scan is one card ID or code read by a scanner, as the agent receives it:
// the program feeds the device layer's scans in, so that the agent depends
// on no hardware library.
type Scan struct {
	Device string
	Kind   string
	Text   string
	Time   time.Time
}

// ScanSource delivers scans until ctx ends; the UI reads one.
type ScanSource interface {
	Scans(ctx context.Context) <-chan Scan
}

// IDRule maps the scans of one device ("" for all) whose whole text
// matches Pattern to a query idtype.
type IDRule struct {
	Device  string
	Pattern *regexp.Regexp
	IDType  string
}

// ScanMapper turns a scan into the identity to look up: the first matching
// rule, else the device's own idtype, else the default by kind (a card
// reader's number is a cardid, a QR code from the campus app a barcode).
type ScanMapper struct {
	rules         []IDRule
	deviceIDTypes map[string]string
}

// NewScanMapper builds a mapper from the configured rules and per-device
// idtypes.
func NewScanMapper(rules []IDRule, deviceIDTypes map[string]string) *ScanMapper {
	return &ScanMapper{rules: rules, deviceIDTypes: deviceIDTypes}
}

// Identify returns the identity a scan names.
func (m *ScanMapper) Identify(s Scan) (Identity, error) {
	for _, r := range m.rules {
		if (r.Device == "" || r.Device == s.Device) && r.Pattern.MatchString(s.Text) {
			return Identity{Type: r.IDType, ID: s.Text}, nil
		}
	}
	if t := m.deviceIDTypes[s.Device]; t != "" {
		return Identity{Type: t, ID: s.Text}, nil
	}
	switch s.Kind {
	case ScanCard:
		return Identity{Type: "cardid", ID: s.Text}, nil
	case ScanBarcode:
		return Identity{Type: "barcode", ID: s.Text}, nil
	}
	return Identity{}, fmt.Errorf("scan from %s: no idtype for kind %q", s.Device, s.Kind)
}
