package device

import (
	"time"
)

// decoded is one text a decoder made, before transforms and debounce.
type decoded struct {
	text      string
	symbology string
	t         time.Time
}

// decoder turns an input's reads into texts: a framer for byte streams,
// the HID decoders for reports. Like a framer it is fed reads with their
// times, told when the line is idle, and reset when the device goes.
type decoder interface {
	feed(t time.Time, p []byte) ([]decoded, []Drop)
	idle(t time.Time) ([]decoded, []Drop)
	deadline() time.Time
	reset(t time.Time, reason string) []Drop
}

// frameDecoder is the decoder of serial and keyboard inputs.
type frameDecoder struct{ f framer }

func frames(fs []frame, ds []Drop) ([]decoded, []Drop) {
	if len(fs) == 0 {
		return nil, ds
	}
	out := make([]decoded, len(fs))
	for i, f := range fs {
		out[i] = decoded{text: f.Text, t: f.Time}
	}
	return out, ds
}

func (d frameDecoder) feed(t time.Time, p []byte) ([]decoded, []Drop) { return frames(d.f.Feed(t, p)) }
func (d frameDecoder) idle(t time.Time) ([]decoded, []Drop)           { return frames(d.f.Idle(t)) }
func (d frameDecoder) deadline() time.Time                            { return d.f.Deadline() }
func (d frameDecoder) reset(t time.Time, reason string) []Drop        { return d.f.Reset(t, reason) }
