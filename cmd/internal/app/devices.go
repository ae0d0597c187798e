package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/campuspos/kiosk/agent"
	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/device"
)

// DeviceSpecs parses the configured devices' specs; an error names the
// device's entry (devices[i].spec).
func DeviceSpecs(cfg *config.Config) ([]device.Spec, error) {
	specs := make([]device.Spec, 0, len(cfg.Devices))
	for i, d := range cfg.Devices {
		s, err := device.ParseSpec(d.Name, d.Spec)
		if err != nil {
			return nil, &config.Error{File: cfg.File, Field: fmt.Sprintf("devices[%d].spec", i), Err: err}
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// ScanMapper builds the agent's scan-to-query mapping from the config.
func ScanMapper(cfg *config.Config) *agent.ScanMapper {
	rules := make([]agent.IDRule, len(cfg.IDRules))
	for i, r := range cfg.IDRules {
		rules[i] = agent.IDRule{Device: r.Device, Pattern: r.Pattern, IDType: r.IDType}
	}
	types := map[string]string{}
	for _, d := range cfg.Devices {
		types[d.Name] = d.IDType
	}
	return agent.NewScanMapper(rules, types)
}

// Devices runs the configured scanners and feeds their scans to the agent:
// it is the agent.ScanSource of a real terminal.
type Devices struct {
	mgr   *device.Manager
	scans chan agent.Scan
	log   *slog.Logger
	// stop ends a pump waiting for a reader that has gone.
	stop     chan struct{}
	stopOnce sync.Once
}

// OpenDevices starts every configured device. A device missing at start is
// not an error: its status says so and it is opened when it appears.
func OpenDevices(ctx context.Context, cfg *config.Config, o device.Options, log *slog.Logger) (*Devices, error) {
	specs, err := DeviceSpecs(cfg)
	if err != nil {
		return nil, err
	}
	mgr, err := device.Open(ctx, specs, o)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Devices{mgr: mgr, scans: make(chan agent.Scan), log: log, stop: make(chan struct{})}
	go d.pump()
	return d, nil
}

// pump turns device events into agent scans and log lines; it ends when
// the manager closes its events.
func (d *Devices) pump() {
	defer close(d.scans)
	for e := range d.mgr.Events() {
		switch e.Type {
		case device.EventScan:
			select {
			case d.scans <- agent.Scan{Device: e.Device, Kind: string(e.Scan.Kind), Text: e.Scan.Text, Time: e.Time}:
			case <-d.stop:
				return
			}
		case device.EventDrop:
			d.log.Warn("scanner input dropped", "device", e.Device, "reason", e.Drop.Reason)
		case device.EventConnected:
			d.log.Info("scanner connected", "device", e.Device, "path", e.Path)
		case device.EventDisconnected, device.EventOpenFailed, device.EventEnded:
			d.log.Warn("scanner "+string(e.Type), "device", e.Device, "err", e.Err)
		}
	}
}

// Scans returns the scans of every device. There is one stream: the
// kiosk's one reader takes them. It is closed when the devices stop.
func (d *Devices) Scans(context.Context) <-chan agent.Scan { return d.scans }

// Status reports every device's state, for the UI and diagnostics.
func (d *Devices) Status() []device.Status { return d.mgr.Status() }

// Keyboard returns the keyboard input of that name (typed into the kiosk
// window), or nil.
func (d *Devices) Keyboard(name string) *device.KeyboardInput { return d.mgr.Keyboard(name) }

// Close stops every device and the scan stream.
func (d *Devices) Close() error {
	d.stopOnce.Do(func() { close(d.stop) })
	return d.mgr.Close()
}

var _ agent.ScanSource = (*Devices)(nil)
