package device

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is wrapped by open errors of a device that is not there
// (unplugged, not yet enumerated); the manager keeps retrying.
var ErrNotFound = errors.New("device not found")

// serialReadSize is one read's buffer: far more than a UART's FIFO or a
// USB-serial packet delivers at once.
const serialReadSize = 4096

// findSerial resolves a spec to a port path: the path itself, or the one
// port with the spec's USB IDs, looked up at every open because a
// re-plugged adapter may come back as another ttyUSB.
func findSerial(sys System, s serialSpec) (string, error) {
	if s.USB == nil {
		return s.Path, nil
	}
	ports, err := sys.SerialPorts()
	if err != nil {
		return "", fmt.Errorf("serial: list ports to find usb=%s: %w", s.USB, err)
	}
	var found, seen []string
	for _, p := range ports {
		if p == nil || !p.IsUSB {
			continue
		}
		vid, err1 := strconv.ParseUint(p.VID, 16, 16)
		pid, err2 := strconv.ParseUint(p.PID, 16, 16)
		if err1 != nil || err2 != nil {
			continue
		}
		seen = append(seen, fmt.Sprintf("%s (%04x:%04x serial %q)", p.Name, vid, pid, p.SerialNumber))
		if uint16(vid) != s.USB.VendorID || uint16(pid) != s.USB.ProductID {
			continue
		}
		if s.USB.Serial != "" && p.SerialNumber != s.USB.Serial {
			continue
		}
		found = append(found, p.Name)
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if len(seen) == 0 {
			seen = []string{"none"}
		}
		return "", fmt.Errorf("serial: usb=%s: %w (USB serial ports present: %s)", s.USB, ErrNotFound, strings.Join(seen, ", "))
	}
	return "", fmt.Errorf("serial: usb=%s matches %d ports (%s): add &serial=SN to the address", s.USB, len(found), strings.Join(found, ", "))
}

// openSerial opens a serial input's port.
func openSerial(sys System, s serialSpec, now func() time.Time) (conn, error) {
	path, err := findSerial(sys, s)
	if err != nil {
		return nil, err
	}
	mode := s.Mode
	port, err := sys.OpenSerial(path, &mode)
	if err != nil {
		if isNotExist(err) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, fmt.Errorf("serial: open %s: %w", path, err)
	}
	name := path
	// A udev symlink says which node it is today; both help a technician.
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		name = path + " -> " + real
	}
	return newStreamConn(port, name, serialReadSize, now), nil
}

// waitCtx waits for d or the context.
func waitCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
