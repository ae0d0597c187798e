package device

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// frame is one complete frame of text from a framer.
type frame struct {
	// Text is the frame's payload, without terminators, STX/ETX or check
	// byte. It is always valid UTF-8 without control characters.
	Text string
	// Time is when the frame's last byte was read.
	Time time.Time
}

// framer cuts a byte stream into frames. It is fed whatever chunks the
// device delivers (a whole frame, one byte, or several frames at once) and
// gives the same frames however the stream is split. Anything that is not a
// clean frame (binary noise, a frame longer than the maximum, a partial
// frame, a failed check byte) comes back as a Drop with a reason and is
// never part of a frame.
//
// Framers are not safe for concurrent use; each input owns one.
type framer interface {
	// Feed takes the bytes of one read that completed at t.
	Feed(t time.Time, p []byte) ([]frame, []Drop)
	// Idle tells the framer that nothing arrived up to t: an idle-gap
	// framer ends its frame, the others drop a partial frame that has
	// waited longer than its partial timeout.
	Idle(t time.Time) ([]frame, []Drop)
	// Deadline is when Idle would next do something; zero when nothing is
	// pending.
	Deadline() time.Time
	// Reset drops whatever is pending (the device went away).
	Reset(t time.Time, reason string) []Drop
}

// frameType selects how a serial stream is cut into frames.
type frameType string

// The frame types.
const (
	// frameLine ends a frame at CR or LF, whichever comes, and ignores
	// empty lines: it accepts readers that send CR, LF or CR LF alike.
	frameLine frameType = "line"
	// frameCR ends a frame at CR.
	frameCR frameType = "cr"
	// frameLF ends a frame at LF.
	frameLF frameType = "lf"
	// frameCRLF ends a frame at CR LF; a CR alone is part of the frame
	// (and makes it noise).
	frameCRLF frameType = "crlf"
	// frameSTX takes the bytes between STX (0x02) and ETX (0x03),
	// optionally followed by a check byte; bytes outside a frame are noise,
	// except CR and LF, which many readers send after ETX.
	frameSTX frameType = "stx"
	// frameFixed cuts every N bytes.
	frameFixed frameType = "fixed"
	// frameGap ends a frame when the line has been quiet for a gap.
	frameGap frameType = "gap"
)

// checkType is the check byte after ETX in STX framing.
type checkType string

// The check bytes.
const (
	checkNone checkType = ""
	// checkXOR is the XOR of every byte after STX up to and including
	// ETX (the BCC of ISO 1155).
	checkXOR checkType = "xor"
	// checkLRC is the two's complement of the 8-bit sum of every byte after
	// STX up to and including ETX.
	checkLRC checkType = "lrc"
)

// Framing defaults.
const (
	// defaultMaxFrame is the longest frame kept when the spec says
	// nothing: a card ID or a payment QR code is far shorter, so longer
	// is a wrong baud rate or a stuck line.
	defaultMaxFrame = 256
	// defaultPartialTimeout is how long a partial frame waits for its
	// next byte: a reader sends a frame in one burst, so bytes left over
	// from before (power-on noise, an aborted read) must not be glued to
	// the next card.
	defaultPartialTimeout = 2 * time.Second
)

// frameSpec describes a framing.
type frameSpec struct {
	Type frameType
	// Check is the check byte for frameSTX.
	Check checkType
	// Size is the frame length for frameFixed.
	Size int
	// Gap is the quiet time that ends a frame for frameGap.
	Gap time.Duration
	// Max is the longest frame; 0 means defaultMaxFrame.
	Max int
	// PartialTimeout drops a partial frame whose last byte is older; 0
	// means never (for the keyboard, where a person may type slowly).
	PartialTimeout time.Duration
}

// newFramer returns a framer for s.
func newFramer(s frameSpec) (framer, error) {
	max := s.Max
	if max == 0 {
		max = defaultMaxFrame
	}
	if max < 1 {
		return nil, fmt.Errorf("frame max %d: must be at least 1", s.Max)
	}
	b := base{max: max, partial: s.PartialTimeout}
	switch s.Type {
	case frameLine, frameCR, frameLF, frameCRLF:
		return &lineFramer{base: b, mode: s.Type}, nil
	case frameSTX:
		if s.Check != checkNone && s.Check != checkXOR && s.Check != checkLRC {
			return nil, fmt.Errorf("frame check %q: want xor or lrc", s.Check)
		}
		return &stxFramer{base: b, check: s.Check}, nil
	case frameFixed:
		if s.Size < 1 || s.Size > max {
			return nil, fmt.Errorf("fixed frame size %d: must be 1 to %d", s.Size, max)
		}
		return &fixedFramer{base: b, size: s.Size}, nil
	case frameGap:
		if s.Gap <= 0 {
			return nil, fmt.Errorf("frame gap %s: must be more than 0", s.Gap)
		}
		b.partial = 0
		return &gapFramer{base: b, gap: s.Gap}, nil
	}
	return nil, fmt.Errorf("frame type %q: want line, cr, lf, crlf, stx, fixed or gap", s.Type)
}

// base is the part every framer shares: the frame being built, the
// overlong state and the output of the current call.
type base struct {
	max     int
	partial time.Duration
	buf     []byte
	// over counts the bytes of a frame that has passed max; while it is
	// more than 0 the frame's bytes are counted, not kept, until the
	// frame ends, so that no tail of it becomes a frame.
	over   int
	last   time.Time
	frames []frame
	drops  []Drop
}

func (b *base) out() ([]frame, []Drop) {
	f, d := b.frames, b.drops
	b.frames, b.drops = nil, nil
	return f, d
}

func (b *base) drop(t time.Time, n int, format string, args ...any) {
	b.drops = append(b.drops, Drop{Reason: fmt.Sprintf(format, args...), Bytes: n, Time: t})
}

// add appends one frame byte, switching to overlong counting past max.
func (b *base) add(c byte) {
	if b.over > 0 {
		b.over++
		return
	}
	if len(b.buf) == b.max {
		b.over = len(b.buf) + 1
		b.buf = b.buf[:0]
		return
	}
	b.buf = append(b.buf, c)
}

// end finishes the current frame: an overlong one is dropped, an empty
// one ignored, anything else checked for noise; extra counts bytes that
// belonged to the frame without being part of its text (terminators).
func (b *base) end(t time.Time, extra int) {
	switch {
	case b.over > 0:
		b.drop(t, b.over+extra, "overlong frame (more than %d bytes)", b.max)
	case len(b.buf) == 0:
	default:
		if reason := textReason(b.buf); reason != "" {
			b.drop(t, len(b.buf)+extra, "%s", reason)
		} else {
			b.frames = append(b.frames, frame{Text: string(b.buf), Time: t})
		}
	}
	b.buf, b.over = b.buf[:0], 0
}

// pending is how many bytes of an unfinished frame are held.
func (b *base) pending() int { return len(b.buf) + b.over }

// stale drops a partial frame whose last byte is older than the partial
// timeout at t; n is the bytes held (the framer's own count).
func (b *base) stale(t time.Time, n int) bool {
	if n == 0 || b.partial <= 0 || t.Sub(b.last) < b.partial {
		return false
	}
	b.drop(t, n, "partial frame (%d bytes, then nothing for %s)", n, b.partial)
	b.buf, b.over = b.buf[:0], 0
	return true
}

func (b *base) deadline(n int) time.Time {
	if n == 0 || b.partial <= 0 {
		return time.Time{}
	}
	return b.last.Add(b.partial)
}

func (b *base) reset(t time.Time, n int, reason string) []Drop {
	if n > 0 {
		b.drop(t, n, "partial frame (%d bytes): %s", n, reason)
	}
	b.buf, b.over = b.buf[:0], 0
	_, d := b.out()
	return d
}

// textReason says why a frame is not text (a scan is printable text: a
// control byte or invalid UTF-8 means noise or a wrong baud rate), or "".
func textReason(p []byte) string {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return fmt.Sprintf("binary noise: control byte 0x%02x in frame", c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Sprintf("binary noise: byte 0x%02x is not UTF-8", c)
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("binary noise: control character %U in frame", r)
		}
		i += size
	}
	return ""
}

const (
	cr  = '\r'
	lf  = '\n'
	stx = 0x02
	etx = 0x03
)

// lineFramer ends frames at CR, LF or CR LF.
type lineFramer struct {
	base
	mode frameType
	// cr is set in crlf mode after a CR, until the next byte says whether
	// it was a terminator.
	cr bool
}

func (f *lineFramer) held() int {
	if f.cr {
		return f.pending() + 1
	}
	return f.pending()
}

func (f *lineFramer) Feed(t time.Time, p []byte) ([]frame, []Drop) {
	if f.stale(t, f.held()) {
		f.cr = false
	}
	for _, c := range p {
		switch f.mode {
		case frameLine:
			if c == cr || c == lf {
				f.end(t, 1)
				continue
			}
		case frameCR:
			if c == cr {
				f.end(t, 1)
				continue
			}
		case frameLF:
			if c == lf {
				f.end(t, 1)
				continue
			}
		case frameCRLF:
			if f.cr {
				f.cr = false
				if c == lf {
					f.end(t, 2)
					continue
				}
				f.add(cr)
			}
			if c == cr {
				f.cr = true
				continue
			}
		}
		f.add(c)
	}
	if len(p) > 0 {
		f.last = t
	}
	return f.out()
}

func (f *lineFramer) Idle(t time.Time) ([]frame, []Drop) {
	if f.stale(t, f.held()) {
		f.cr = false
	}
	return f.out()
}

func (f *lineFramer) Deadline() time.Time { return f.deadline(f.held()) }

func (f *lineFramer) Reset(t time.Time, reason string) []Drop {
	n := f.held()
	f.cr = false
	return f.reset(t, n, reason)
}

// stxFramer takes STX … ETX [check] frames.
type stxFramer struct {
	base
	check checkType
	// state: outside a frame, inside one, or waiting for the check byte.
	state int
	// noise counts bytes outside frames not yet reported.
	noise int
}

const (
	stxOutside = iota
	stxInside
	stxCheck
)

func (f *stxFramer) held() int {
	switch f.state {
	case stxInside:
		return f.pending() + 1 // STX
	case stxCheck:
		return f.pending() + 2 // STX, ETX
	}
	return 0
}

func (f *stxFramer) flushNoise(t time.Time) {
	if f.noise > 0 {
		f.drop(t, f.noise, "binary noise: %d bytes outside STX…ETX", f.noise)
		f.noise = 0
	}
}

func (f *stxFramer) Feed(t time.Time, p []byte) ([]frame, []Drop) {
	if f.stale(t, f.held()) {
		f.state = stxOutside
	}
	for _, c := range p {
		switch f.state {
		case stxOutside:
			switch c {
			case stx:
				f.flushNoise(t)
				f.state = stxInside
			case cr, lf:
			default:
				f.noise++
			}
		case stxInside:
			switch c {
			case stx:
				f.drop(t, f.held(), "partial frame: STX before ETX")
				f.buf, f.over = f.buf[:0], 0
			case etx:
				if f.check == checkNone {
					f.end(t, 2)
					f.state = stxOutside
				} else {
					f.state = stxCheck
				}
			default:
				f.add(c)
			}
		case stxCheck:
			f.state = stxOutside
			if f.over > 0 {
				f.end(t, 3)
				continue
			}
			if want := f.sum(); c != want {
				f.drop(t, len(f.buf)+3, "%s check byte 0x%02x, want 0x%02x", f.check, c, want)
				f.buf = f.buf[:0]
				continue
			}
			f.end(t, 3)
		}
	}
	if len(p) > 0 {
		f.last = t
	}
	return f.out()
}

// sum is the check byte over the frame's data and ETX.
func (f *stxFramer) sum() byte {
	var x, s byte
	for _, c := range f.buf {
		x ^= c
		s += c
	}
	x ^= etx
	s += etx
	if f.check == checkXOR {
		return x
	}
	return -s
}

func (f *stxFramer) Idle(t time.Time) ([]frame, []Drop) {
	if f.stale(t, f.held()) {
		f.state = stxOutside
	}
	// Noise is reported once the line is quiet, so that one burst of it
	// is one drop.
	if f.noise > 0 && f.partial > 0 && t.Sub(f.last) >= f.partial {
		f.flushNoise(t)
	}
	return f.out()
}

func (f *stxFramer) Deadline() time.Time {
	if f.noise > 0 && f.partial > 0 {
		return f.last.Add(f.partial)
	}
	return f.deadline(f.held())
}

func (f *stxFramer) Reset(t time.Time, reason string) []Drop {
	f.flushNoise(t)
	n := f.held()
	f.state = stxOutside
	return f.reset(t, n, reason)
}

// fixedFramer cuts every size bytes.
type fixedFramer struct {
	base
	size int
}

func (f *fixedFramer) Feed(t time.Time, p []byte) ([]frame, []Drop) {
	f.stale(t, f.pending())
	for _, c := range p {
		f.buf = append(f.buf, c)
		if len(f.buf) == f.size {
			f.end(t, 0)
		}
	}
	if len(p) > 0 {
		f.last = t
	}
	return f.out()
}

func (f *fixedFramer) Idle(t time.Time) ([]frame, []Drop) {
	f.stale(t, f.pending())
	return f.out()
}

func (f *fixedFramer) Deadline() time.Time { return f.deadline(f.pending()) }

func (f *fixedFramer) Reset(t time.Time, reason string) []Drop {
	return f.reset(t, f.pending(), reason)
}

// gapFramer ends a frame when the line has been quiet for gap.
type gapFramer struct {
	base
	gap time.Duration
}

func (f *gapFramer) quiet(t time.Time) {
	if f.pending() > 0 && t.Sub(f.last) >= f.gap {
		f.end(f.last, 0)
	}
}

func (f *gapFramer) Feed(t time.Time, p []byte) ([]frame, []Drop) {
	f.quiet(t)
	for _, c := range p {
		f.add(c)
	}
	if len(p) > 0 {
		f.last = t
	}
	return f.out()
}

func (f *gapFramer) Idle(t time.Time) ([]frame, []Drop) {
	f.quiet(t)
	return f.out()
}

func (f *gapFramer) Deadline() time.Time {
	if f.pending() == 0 {
		return time.Time{}
	}
	return f.last.Add(f.gap)
}

func (f *gapFramer) Reset(t time.Time, reason string) []Drop {
	return f.reset(t, f.pending(), reason)
}
