package hid

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// defaultMaxLen is the longest text, in bytes, that a decoder passes on
// when its options leave MaxLen at zero: far above a card number or the
// campus app's QR code, far below what noise can pile up.
const defaultMaxLen = 512

// Drop is an input report, or part of one, that a decoder discarded, with
// the reason; what is dropped is never passed on.
type Drop struct {
	// Reason says why, for a technician ("unknown key usage 0x29").
	Reason string
	// Bytes is what was discarded: the input report that caused the drop
	// (a copy), or the partial text when a frame is abandoned.
	Bytes []byte
}

// KeyboardOptions configures a KeyboardDecoder.
type KeyboardOptions struct {
	// Layout maps usages to characters; the zero Layout means USLayout.
	Layout Layout
	// TabTerminates makes Tab end a text like Enter; otherwise Tab types a
	// tab character into the text.
	TabTerminates bool
	// ReportID says that each report starts with a report ID byte (a
	// composite device that numbers its reports), which is skipped.
	ReportID bool
	// OnlyReportID, with ReportID, is the keyboard report's ID; a report
	// with another ID (a consumer-control or vendor report of the same
	// device) is dropped instead of being read as keys. Zero accepts any.
	OnlyReportID byte
	// MaxLen is the longest text in bytes; a longer frame is dropped.
	// Zero means 512.
	MaxLen int
}

// keySet is a set of usage IDs, one bit each.
type keySet [4]uint64

func (s *keySet) add(u byte)      { s[u>>6] |= 1 << (u & 63) }
func (s *keySet) has(u byte) bool { return s[u>>6]&(1<<(u&63)) != 0 }

// KeyboardDecoder decodes boot-keyboard input reports into texts.
//
// A boot-keyboard report is 8 bytes: modifier bits, a reserved byte, and
// six slots holding the usage IDs of the keys that are down (HID 1.11,
// appendix B). The keyboard reports state, not events, so a character is
// typed when its key appears in a report and was not down in the previous
// one: a key held over several reports (roll-over, or a scanner repeating
// the same report) types once, and a report with no keys releases them
// all. Keys newly down in the same report are taken in slot order. Shift
// is modifier bit 0x02 or 0x20 (left or right); Caps Lock toggles the case
// of letters as on a PC.
//
// A text ends at Enter (0x28), Keypad Enter (0x58) or, with TabTerminates,
// Tab (0x2B); an empty text (a bare Enter) is ignored. A frame with a key
// the layout does not know, a key pressed with Ctrl, Alt or GUI held, a
// keyboard error report (roll-over overflow, where keys may have been
// missed) or more than MaxLen bytes is dropped whole, with one Drop at the
// first fault and nothing more until its terminator: a partial card number
// could be some other card.
//
// A KeyboardDecoder is not safe for concurrent use; use one per device.
type KeyboardDecoder struct {
	o       KeyboardOptions
	normal  [256]rune // 0: unmapped
	shifted [256]rune
	letter  [256]bool // Caps Lock applies
	prev    keySet    // keys down in the previous report
	buf     []byte    // text of the frame so far
	failed  bool      // the frame is dropped; skip to its terminator
	caps    bool
}

// NewKeyboardDecoder returns a decoder with the given options.
func NewKeyboardDecoder(o KeyboardOptions) *KeyboardDecoder {
	if o.Layout.Normal == nil && o.Layout.Shifted == nil {
		o.Layout = USLayout()
	}
	if o.MaxLen <= 0 {
		o.MaxLen = defaultMaxLen
	}
	d := &KeyboardDecoder{o: o}
	// Flat tables: a map lookup per key press would dominate decoding.
	for u, r := range o.Layout.Normal {
		d.normal[u] = r
	}
	for u, r := range o.Layout.Shifted {
		d.shifted[u] = r
	}
	for u := range 256 {
		n, s := d.normal[u], d.shifted[u]
		d.letter[u] = unicode.IsLetter(n) && s != 0 && unicode.IsLetter(s) && n != s
	}
	return d
}

// Feed decodes one input report (report ID first when the options say so)
// and returns the texts it completed and what it dropped. Report is not
// retained.
func (d *KeyboardDecoder) Feed(report []byte) (texts []string, drops []Drop) {
	r := report
	if d.o.ReportID {
		if len(r) == 0 {
			d.fail(&drops, "empty report, no report ID", report)
			return texts, drops
		}
		if d.o.OnlyReportID != 0 && r[0] != d.o.OnlyReportID {
			// Not a keyboard report: it says nothing about the keys, so it
			// neither touches the key state nor spoils the frame.
			drops = append(drops, Drop{
				Reason: fmt.Sprintf("report ID 0x%02X is not the keyboard report 0x%02X", r[0], d.o.OnlyReportID),
				Bytes:  clone(report),
			})
			return texts, drops
		}
		r = r[1:]
	}
	if len(r) < 3 {
		d.fail(&drops, fmt.Sprintf("short keyboard report: %d bytes, want 8", len(r)), report)
		return texts, drops
	}
	mod, slots := r[0], r[2:]
	var cur keySet
	for _, u := range slots {
		switch {
		case u == 0:
		case u <= usageErrorUndef:
			// Phantom state: the keyboard cannot say which keys are down,
			// so a key pressed and released meanwhile is lost. Keep the
			// previous state, so nothing is typed twice, and drop the frame.
			d.fail(&drops, fmt.Sprintf("keyboard error report (usage 0x%02X): keys may be missing", u), report)
			return texts, drops
		case u >= usageLeftControl && u <= usageRightGUI:
			// A modifier in a key slot: the modifier byte already says it.
		default:
			cur.add(u)
		}
	}
	shift := mod&0x22 != 0
	other := mod &^ 0x22
	var seen keySet // a usage listed twice in one report is one key
	for _, u := range slots {
		if !cur.has(u) || d.prev.has(u) || seen.has(u) {
			continue
		}
		seen.add(u)
		if text, ok := d.press(&drops, u, shift, other, report); ok {
			texts = append(texts, text)
		}
	}
	d.prev = cur
	return texts, drops
}

// press handles a key that went down and returns a completed text.
func (d *KeyboardDecoder) press(drops *[]Drop, u byte, shift bool, other byte, report []byte) (string, bool) {
	switch u {
	case usageEnter, usageKeypadEnter:
		return d.end()
	case usageTab:
		if d.o.TabTerminates {
			return d.end()
		}
		d.append(drops, '\t', report)
		return "", false
	case usageCapsLock:
		d.caps = !d.caps
		return "", false
	case usageNumLock:
		// Num Lock is assumed on (the keypad types digits); a scanner that
		// toggles it is not trying to type anything.
		return "", false
	}
	if d.failed {
		return "", false
	}
	if other != 0 {
		d.fail(drops, fmt.Sprintf("key usage 0x%02X with Ctrl/Alt/GUI (modifiers 0x%02X)", u, other), report)
		return "", false
	}
	up := shift
	if d.caps && d.letter[u] {
		up = !up
	}
	c := d.normal[u]
	if up {
		c = d.shifted[u]
	}
	if c == 0 {
		level := "unshifted"
		if up {
			level = "shifted"
		}
		d.fail(drops, fmt.Sprintf("unknown key usage 0x%02X (%s) in layout %q", u, level, d.o.Layout.Name), report)
		return "", false
	}
	d.append(drops, c, report)
	return "", false
}

// append adds a character to the frame unless that makes it overlong.
func (d *KeyboardDecoder) append(drops *[]Drop, c rune, report []byte) {
	if d.failed {
		return
	}
	if len(d.buf)+utf8.RuneLen(c) > d.o.MaxLen {
		d.fail(drops, fmt.Sprintf("text longer than %d bytes", d.o.MaxLen), report)
		return
	}
	d.buf = utf8.AppendRune(d.buf, c)
}

// end finishes the frame at a terminator.
func (d *KeyboardDecoder) end() (string, bool) {
	failed := d.failed
	d.failed = false
	if failed || len(d.buf) == 0 {
		d.buf = d.buf[:0]
		return "", false
	}
	s := string(d.buf)
	d.buf = d.buf[:0]
	return s, true
}

// fail drops the frame in progress: one Drop for the first fault, then
// silence until the terminator.
func (d *KeyboardDecoder) fail(drops *[]Drop, reason string, report []byte) {
	if !d.failed {
		*drops = append(*drops, Drop{Reason: reason + "; frame dropped", Bytes: clone(report)})
	}
	d.failed = true
	d.buf = d.buf[:0]
}

// Reset forgets the frame in progress and the key state, as when the
// device is closed or has been idle too long for the frame to be whole,
// and returns a Drop for a partial text that had no terminator.
func (d *KeyboardDecoder) Reset() []Drop {
	var drops []Drop
	if len(d.buf) > 0 && !d.failed {
		drops = append(drops, Drop{Reason: "partial text without terminator", Bytes: clone(d.buf)})
	}
	d.buf = d.buf[:0]
	d.failed = false
	d.prev = keySet{}
	d.caps = false
	return drops
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
