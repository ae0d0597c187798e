package device

import (
	"errors"
	"io/fs"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"

	"github.com/campuspos/kiosk/device/hid"
)

// System is how the package reaches the machine's devices. The zero value
// means the real machine; tests replace parts of it.
type System struct {
	// SerialPorts lists serial ports with their USB details
	// (default: go.bug.st/serial/enumerator.GetDetailedPortsList).
	SerialPorts func() ([]*enumerator.PortDetails, error)
	// OpenSerial opens a serial port (default: go.bug.st/serial.Open).
	OpenSerial func(path string, mode *serial.Mode) (serial.Port, error)
	// HID enumerates and opens HID devices (default: hid.System()).
	HID hid.Backend
}

func (s System) withDefaults() System {
	if s.SerialPorts == nil {
		s.SerialPorts = func() ([]*enumerator.PortDetails, error) { return enumerator.GetDetailedPortsList() }
	}
	if s.OpenSerial == nil {
		s.OpenSerial = serial.Open
	}
	if s.HID == nil {
		s.HID = hid.System()
	}
	return s
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
