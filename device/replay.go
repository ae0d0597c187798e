package device

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Record is one read of a capture: when it happened, counted from the
// start of the capture, and its bytes.
type Record struct {
	At   time.Duration
	Data []byte
}

// maxCaptureLine bounds one line of a capture file (a read of 64 KiB in
// hex with spaces).
const maxCaptureLine = 256 << 10

// parseCapture reads a capture file: one read per line, `<milliseconds
// since start> <hex bytes>` (the hex may be spaced out in pairs, and the
// milliseconds may have a fraction), `#` lines and blank lines ignored.
// Times must not go backwards. Errors name the line.
func parseCapture(r io.Reader) ([]Record, error) {
	var recs []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxCaptureLine)
	var last time.Duration
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		ms, rest, _ := strings.Cut(line, " ")
		f, err := strconv.ParseFloat(ms, 64)
		if err != nil || f < 0 || f > float64(1<<53) {
			return nil, fmt.Errorf("capture line %d: time %q: want milliseconds since start", n, ms)
		}
		at := time.Duration(f * float64(time.Millisecond))
		if at < last {
			return nil, fmt.Errorf("capture line %d: time %q goes back from %s", n, ms, last)
		}
		last = at
		data, err := hex.DecodeString(strings.Join(strings.Fields(rest), ""))
		if err != nil {
			return nil, fmt.Errorf("capture line %d: bytes %q: %w", n, rest, err)
		}
		if len(data) == 0 {
			return nil, fmt.Errorf("capture line %d: no bytes after the time", n)
		}
		recs = append(recs, Record{At: at, Data: data})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	return recs, nil
}

// WriteRecord writes one capture line.
func WriteRecord(w io.Writer, r Record) error {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(r.At.Milliseconds(), 10))
	for _, c := range r.Data {
		b.WriteByte(' ')
		b.WriteString(hex.EncodeToString([]byte{c}))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// replayConn plays a capture as a device. Its times are the recorded
// ones shifted to when the replay started, at either speed, so that
// framing, partial timeouts and debounce see what they saw live.
type replayConn struct {
	file  string
	recs  []Record
	i     int
	start time.Time
	fast  bool
	now   func() time.Time
}

func openReplay(s replaySpec, now func() time.Time) (conn, error) {
	f, err := os.Open(s.File)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	recs, err := parseCapture(f)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", s.File, err)
	}
	return &replayConn{file: s.File, recs: recs, start: now(), fast: s.Fast, now: now}, nil
}

func (c *replayConn) next(ctx context.Context, deadline time.Time) (chunk, error) {
	if err := ctx.Err(); err != nil {
		return chunk{}, err
	}
	if c.i == len(c.recs) {
		return chunk{}, io.EOF
	}
	r := c.recs[c.i]
	at := c.start.Add(r.At)
	idle := !deadline.IsZero() && deadline.Before(at)
	if idle {
		at = deadline
	}
	if !c.fast {
		if d := at.Sub(c.now()); d > 0 {
			if err := waitCtx(ctx, d); err != nil {
				return chunk{}, err
			}
		}
	}
	if idle {
		return chunk{t: at, idle: true}, nil
	}
	c.i++
	return chunk{t: at, data: r.Data}, nil
}

func (c *replayConn) path() string { return c.file }
func (c *replayConn) close() error { return nil }
