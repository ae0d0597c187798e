package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.bug.st/serial/enumerator"

	"github.com/campuspos/kiosk/cmd/internal/app"
	"github.com/campuspos/kiosk/device"
	"github.com/campuspos/kiosk/device/hid"
)

// diagError is a device that failed or did not deliver what was asked
// (exit 1: nothing was sent anywhere).
type diagError struct{ err error }

func (e *diagError) Error() string { return e.err.Error() }
func (e *diagError) Unwrap() error { return e.err }

func diagFailed(format string, args ...any) error {
	return &diagError{fmt.Errorf(format, args...)}
}

// diagCmd is `kioskctl diag devices|scan|capture`. It runs without the
// configuration (see withoutConfig): --device takes a SPEC. A NAME from
// the configuration's devices section needs that section, which the
// config package does not have yet.
func diagCmd(fs *flag.FlagSet) func(context.Context, *app.App, []string) (result, error) {
	dev := fs.String("device", "", "device SPEC, e.g. serial:/dev/ttyUSB0?frame=crlf or replay:capture.txt?as=hid-pos")
	count := fs.Int("count", 0, "scan: stop after N scans (0: until --timeout or Ctrl-C)")
	timeout := fs.Duration("timeout", 0, "scan, capture: stop after this long (0: until Ctrl-C)")
	out := fs.String("out", "", "capture: the capture file to write")
	raw := fs.Bool("raw", false, "scan: also print every read in hex")
	return func(ctx context.Context, a *app.App, args []string) (result, error) {
		if len(args) != 1 {
			return result{}, usagef("diag needs one of: devices, scan, capture")
		}
		sub := args[0]
		allowed := map[string][]string{
			"devices": {},
			"scan":    {"device", "count", "timeout", "raw"},
			"capture": {"device", "timeout", "out"},
		}[sub]
		if allowed == nil && sub != "devices" {
			return result{}, usagef("diag %q: want devices, scan or capture", sub)
		}
		var bad error
		fs.Visit(func(f *flag.Flag) {
			for _, a := range allowed {
				if f.Name == a {
					return
				}
			}
			bad = usagef("diag %s does not take --%s", sub, f.Name)
		})
		if bad != nil {
			return result{}, bad
		}
		if *count < 0 || *timeout < 0 {
			return result{}, usagef("diag %s: --count and --timeout must not be negative", sub)
		}
		switch sub {
		case "devices":
			return diagDevices(enumerator.GetDetailedPortsList, hid.System()), nil
		case "scan":
			spec, err := diagSpec(*dev, a)
			if err != nil {
				return result{}, err
			}
			if spec.Type == device.TypeKeyboard {
				return result{}, usagef("--device %s: the keyboard input is what is typed into the kiosk window; scan the scanner's own device (hid-keyboard:VID:PID) instead", spec.Raw)
			}
			return result{stream: func(stdout, stderr io.Writer, asJSON bool) error {
				return diagScan(ctx, spec, *count, *timeout, *raw, stdout, stderr, asJSON, device.Options{})
			}}, nil
		default:
			spec, err := diagSpec(*dev, a)
			if err != nil {
				return result{}, err
			}
			if *out == "" {
				return result{}, usagef("diag capture needs --out FILE")
			}
			return diagCapture(ctx, spec, *out, *timeout, device.Options{})
		}
	}
}

// diagSpec parses --device: a SPEC, or the NAME of a configured device.
func diagSpec(s string, a *app.App) (device.Spec, error) {
	if s == "" {
		return device.Spec{}, usagef("--device is required: a configured device's NAME or a SPEC such as serial:/dev/ttyUSB0?baud=9600&frame=crlf")
	}
	name, raw := "diag", s
	if !strings.Contains(s, ":") {
		if a == nil || a.Config == nil {
			var why error = errors.New("no configuration")
			if a != nil && a.ConfigErr != nil {
				why = a.ConfigErr
			}
			return device.Spec{}, usagef("--device %q is a device name, which needs the configuration: %v; or give a SPEC such as serial:/dev/ttyUSB0?frame=crlf", s, why)
		}
		d, ok := a.Config.DeviceNamed(s)
		if !ok {
			return device.Spec{}, usagef("--device %q: no such device in %s", s, a.Config.File)
		}
		name, raw = d.Name, d.Spec
	}
	spec, err := device.ParseSpec(name, raw)
	if err != nil {
		return device.Spec{}, usagef("--device: %v", err)
	}
	return spec, nil
}

// diagDevices lists serial ports and HID devices, each with a spec that
// finds it, for the technician to paste.
func diagDevices(serialPorts func(...func(vid, pid string) bool) ([]*enumerator.PortDetails, error), hidBackend hid.Backend) result {
	var b strings.Builder
	obj := map[string]any{}

	ports, err := serialPorts()
	serialObjs := []map[string]any{}
	b.WriteString("serial ports:\n")
	if err != nil {
		fmt.Fprintf(&b, "  cannot list: %v\n", err)
		obj["serial_error"] = err.Error()
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	if len(ports) > 0 {
		fmt.Fprintln(tw, "  PATH\tUSB\tSERIAL\tPRODUCT\tSPEC")
	}
	for _, p := range ports {
		usb, spec := "-", "serial:"+p.Name
		o := map[string]any{"path": p.Name, "usb": p.IsUSB}
		if p.IsUSB {
			usb = strings.ToLower(p.VID + ":" + p.PID)
			spec = "serial:usb=" + usb
			if p.SerialNumber != "" {
				spec += "&serial=" + p.SerialNumber
			}
			o["vid"], o["pid"], o["serial"] = strings.ToLower(p.VID), strings.ToLower(p.PID), p.SerialNumber
			o["manufacturer"], o["product"] = p.Manufacturer, p.Product
		}
		o["spec"] = spec
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Name, usb, dash(p.SerialNumber), dash(strings.TrimSpace(p.Manufacturer+" "+p.Product)), spec)
		serialObjs = append(serialObjs, o)
	}
	tw.Flush()
	if len(ports) == 0 && err == nil {
		b.WriteString("  none\n")
	}
	obj["serial"] = serialObjs

	infos, err := hidBackend.Enumerate(0, 0)
	hidObjs := []map[string]any{}
	b.WriteString("HID devices:\n")
	if err != nil {
		fmt.Fprintf(&b, "  cannot list: %v\n", err)
		obj["hid_error"] = err.Error()
	}
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	if len(infos) > 0 {
		fmt.Fprintln(tw, "  PATH\tUSB\tUSAGE PAGE\tUSAGE\tINTERFACE\tSERIAL\tPRODUCT\tSPEC")
	}
	// The interfaces of a composite scanner share USB IDs and serial
	// number; their specs need interface=N to find one of them.
	type usbDevice struct {
		vid, pid uint16
		serial   string
	}
	entries := map[usbDevice]int{}
	for _, d := range infos {
		entries[usbDevice{d.VendorID, d.ProductID, d.Serial}]++
	}
	guessed := false // a composite scanner's type, without usage page
	for _, d := range infos {
		typ := "hid-keyboard"
		if d.UsagePage == device.UsagePagePOS {
			typ = "hid-pos"
		}
		var opts []string
		if d.Serial != "" {
			opts = append(opts, "serial="+d.Serial)
		}
		iface := "-" // not a USB device
		if d.Interface >= 0 {
			iface = strconv.Itoa(d.Interface)
			if entries[usbDevice{d.VendorID, d.ProductID, d.Serial}] > 1 {
				opts = append(opts, "interface="+iface)
				guessed = guessed || d.UsagePage == 0
			}
		}
		spec := fmt.Sprintf("%s:%04x:%04x", typ, d.VendorID, d.ProductID)
		if len(opts) > 0 {
			spec += "?" + strings.Join(opts, "&")
		}
		fmt.Fprintf(tw, "  %s\t%04x:%04x\t0x%02X\t0x%02X\t%s\t%s\t%s\t%s\n", d.Path, d.VendorID, d.ProductID, d.UsagePage, d.Usage,
			iface, dash(d.Serial), dash(strings.TrimSpace(d.Manufacturer+" "+d.Product)), spec)
		hidObjs = append(hidObjs, map[string]any{
			"path": d.Path, "vid": fmt.Sprintf("%04x", d.VendorID), "pid": fmt.Sprintf("%04x", d.ProductID),
			"usage_page": d.UsagePage, "usage": d.Usage, "interface": d.Interface, "serial": d.Serial,
			"manufacturer": d.Manufacturer, "product": d.Product, "spec": spec,
		})
	}
	tw.Flush()
	if len(infos) == 0 && err == nil {
		b.WriteString("  none\n")
	}
	if guessed {
		// Without the usage page the spec's type is a guess: which
		// interface is the HID POS one only a scan tells.
		b.WriteString("  usage page 0x00: not reported (Linux), so a composite scanner's SPEC type is a guess: try hid-pos and hid-keyboard on each interface with diag scan\n")
	}
	obj["hid"] = hidObjs
	return result{text: b.String(), obj: obj}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// diagScan prints each scan as it arrives (and each drop, with its
// reason); connection events go to stderr. It ends after count scans
// (when count > 0), at the timeout, when the device ends (a replay) or
// when ctx is done (Ctrl-C); falling short of count is a failure.
func diagScan(ctx context.Context, spec device.Spec, count int, timeout time.Duration, raw bool,
	stdout, stderr io.Writer, asJSON bool, o device.Options) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	o.RawEvents = raw
	m, err := device.Open(ctx, []device.Spec{spec}, o)
	if err != nil {
		return usagef("%v", err)
	}
	defer m.Close()
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	stamp := func(t time.Time) string { return t.Format("15:04:05.000") }
	n := 0
	var ended error
	for e := range m.Events() {
		switch e.Type {
		case device.EventScan:
			s := e.Scan
			n++
			if asJSON {
				obj := map[string]any{"device": deviceLabel(spec), "kind": s.Kind, "text": s.Text, "time": s.Time.Format(time.RFC3339Nano)}
				if s.Symbology != "" {
					obj["symbology"] = s.Symbology
				}
				enc.Encode(obj)
			} else {
				sym := ""
				if s.Symbology != "" {
					sym = " " + s.Symbology
				}
				fmt.Fprintf(stdout, "%s %s %s%s\n", stamp(s.Time), s.Kind, s.Text, sym)
			}
			if count > 0 && n == count {
				return nil
			}
		case device.EventDrop:
			if asJSON {
				enc.Encode(map[string]any{"device": deviceLabel(spec), "dropped": e.Drop.Reason, "bytes": e.Drop.Bytes, "time": e.Time.Format(time.RFC3339Nano)})
			} else {
				fmt.Fprintf(stdout, "%s dropped (%d bytes): %s\n", stamp(e.Time), e.Drop.Bytes, e.Drop.Reason)
			}
		case device.EventRead:
			fmt.Fprintf(stderr, "%s read % x\n", stamp(e.Time), e.Data)
		case device.EventConnected:
			fmt.Fprintf(stderr, "%s connected: %s\n", stamp(e.Time), e.Path)
		case device.EventDisconnected:
			if e.Err != nil && ctx.Err() == nil {
				fmt.Fprintf(stderr, "%s disconnected: %v\n", stamp(e.Time), e.Err)
			}
		case device.EventOpenFailed:
			fmt.Fprintf(stderr, "%s cannot open (retrying): %v\n", stamp(e.Time), e.Err)
		case device.EventEnded:
			ended = e.Err
		}
	}
	// Every input stopped: the timeout, Ctrl-C, or the device ended.
	switch {
	case count == 0 && (ended == nil || errors.Is(ended, device.ErrReplayEnded)):
		return nil
	case ended != nil && !errors.Is(ended, device.ErrReplayEnded):
		return diagFailed("device: %v", ended)
	case errors.Is(ended, device.ErrReplayEnded):
		return diagFailed("the replay ended after %d of %d scans", n, count)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return diagFailed("timeout after %s: %d of %d scans", timeout, n, count)
	}
	return diagFailed("interrupted after %d of %d scans", n, count)
}

// diagCapture records the device into out until the timeout or Ctrl-C.
func diagCapture(ctx context.Context, spec device.Spec, out string, timeout time.Duration, o device.Options) (result, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	// Card numbers are personal data: the file is the technician's only.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return result{}, usagef("--out: %v", err)
	}
	n, err := device.Capture(ctx, spec, f, o)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("--out: %w", cerr)
	}
	if err != nil {
		return result{}, &diagError{err}
	}
	return result{
		text: fmt.Sprintf("captured %d reads from %s into %s\n", n, spec.Raw, out),
		obj:  map[string]any{"device": spec.Raw, "out": out, "reads": n},
	}, nil
}

// deviceLabel names a device in diag's output: its configured name, or the
// SPEC it was given as.
func deviceLabel(s device.Spec) string {
	if s.Name != "" && s.Name != "diag" {
		return s.Name
	}
	return s.Raw
}
