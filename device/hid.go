package device

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/campuspos/kiosk/device/hid"
)

// hidReadSize holds any input report: full-speed HID reports are at most
// 64 bytes, high-speed ones 1024.
const hidReadSize = 1024

// openHID finds and opens a HID input's device, and sends its feature
// report (the one that switches some scanners into HID POS mode).
func openHID(sys System, s Spec, now func() time.Time) (conn, error) {
	dev, info, err := hid.Open(sys.HID, s.hid.VendorID, s.hid.ProductID, s.hid.Serial, s.hid.UsagePage, s.hid.Interface)
	if err != nil {
		var ambiguous *hid.AmbiguousError
		switch {
		case errors.Is(err, hid.ErrNotFound):
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		case errors.As(err, &ambiguous) && len(ambiguous.Interfaces()) > 1:
			// hid names the interfaces and says how to choose in its own
			// terms; the technician writes a spec.
			err = fmt.Errorf("%w; in the spec: interface=N", err)
		}
		return nil, err
	}
	if len(s.hid.Feature) > 0 {
		if _, err := dev.SendFeatureReport(s.hid.Feature); err != nil {
			dev.Close()
			return nil, fmt.Errorf("hid: %s: feature report %x: %w", info, s.hid.Feature, err)
		}
	}
	return newStreamConn(dev, info.Path, hidReadSize, now), nil
}

// layout loads the spec's keyboard layout: the built-in US one, or a
// table file (see hid.LayoutFromTable).
func layout(name string) (hid.Layout, error) {
	if name == "" || name == "us" {
		return hid.USLayout(), nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return hid.Layout{}, fmt.Errorf("layout %s: %w", name, err)
	}
	l, err := hid.LayoutFromTable(name, strings.Split(string(b), "\n"))
	if err != nil {
		return hid.Layout{}, fmt.Errorf("layout %s: %w", name, err)
	}
	return l, nil
}

func hidDrops(t time.Time, ds []hid.Drop) []Drop {
	if len(ds) == 0 {
		return nil
	}
	out := make([]Drop, len(ds))
	for i, d := range ds {
		out[i] = Drop{Reason: d.Reason, Bytes: len(d.Bytes), Time: t}
	}
	return out
}

// hidIdle is the partial timeout of the HID decoders: a text whose
// terminator has not come within it is dropped (hid decoders' Reset), so
// that a scan cut short by a lost report is not glued to the next one.
type hidIdle struct {
	timeout time.Duration
	last    time.Time
	dirty   bool
}

func (h *hidIdle) fed(t time.Time) { h.last, h.dirty = t, true }

func (h *hidIdle) due(t time.Time) bool {
	if !h.dirty || h.timeout <= 0 || t.Sub(h.last) < h.timeout {
		return false
	}
	h.dirty = false
	return true
}

func (h *hidIdle) deadline() time.Time {
	if !h.dirty || h.timeout <= 0 {
		return time.Time{}
	}
	return h.last.Add(h.timeout)
}

// keyboardDecoder decodes boot-keyboard reports.
type keyboardDecoder struct {
	d *hid.KeyboardDecoder
	hidIdle
}

func newKeyboardDecoder(s Spec) (*keyboardDecoder, error) {
	l, err := layout(s.hid.Layout)
	if err != nil {
		return nil, err
	}
	o := hid.KeyboardOptions{Layout: l, TabTerminates: s.hid.Tab, MaxLen: s.hid.Max}
	if s.hid.ReportID > 0 {
		o.ReportID, o.OnlyReportID = true, byte(s.hid.ReportID)
	}
	return &keyboardDecoder{d: hid.NewKeyboardDecoder(o), hidIdle: hidIdle{timeout: s.frame.PartialTimeout}}, nil
}

func (k *keyboardDecoder) feed(t time.Time, p []byte) ([]decoded, []Drop) {
	var ds []Drop
	if k.due(t) {
		ds = hidDrops(t, k.d.Reset())
	}
	texts, drops := k.d.Feed(p)
	k.fed(t)
	var out []decoded
	for _, s := range texts {
		out = append(out, decoded{text: s, t: t})
	}
	return out, append(ds, hidDrops(t, drops)...)
}

func (k *keyboardDecoder) idle(t time.Time) ([]decoded, []Drop) {
	if k.due(t) {
		return nil, hidDrops(t, k.d.Reset())
	}
	return nil, nil
}

func (k *keyboardDecoder) deadline() time.Time { return k.hidIdle.deadline() }

func (k *keyboardDecoder) reset(t time.Time, reason string) []Drop {
	k.dirty = false
	return withReason(hidDrops(t, k.d.Reset()), reason)
}

// posDecoder decodes HID POS scanned-data reports.
type posDecoder struct {
	d *hid.POSDecoder
	hidIdle
}

func newPOSDecoder(s Spec) *posDecoder {
	return &posDecoder{
		d: hid.NewPOSDecoder(hid.POSOptions{
			ReportID: byte(s.hid.ReportID), VendorSymbologyByte: s.hid.VendorByte, MaxLen: s.hid.Max,
		}),
		hidIdle: hidIdle{timeout: s.frame.PartialTimeout},
	}
}

func (k *posDecoder) feed(t time.Time, p []byte) ([]decoded, []Drop) {
	var ds []Drop
	if k.due(t) {
		ds = hidDrops(t, k.d.Reset())
	}
	scans, drops := k.d.Feed(p)
	k.fed(t)
	var out []decoded
	for _, s := range scans {
		out = append(out, decoded{text: s.Text, symbology: s.Symbology, t: t})
	}
	return out, append(ds, hidDrops(t, drops)...)
}

func (k *posDecoder) idle(t time.Time) ([]decoded, []Drop) {
	if k.due(t) {
		return nil, hidDrops(t, k.d.Reset())
	}
	return nil, nil
}

func (k *posDecoder) deadline() time.Time { return k.hidIdle.deadline() }

func (k *posDecoder) reset(t time.Time, reason string) []Drop {
	k.dirty = false
	return withReason(hidDrops(t, k.d.Reset()), reason)
}

func withReason(ds []Drop, reason string) []Drop {
	for i := range ds {
		ds[i].Reason += ": " + reason
	}
	return ds
}
