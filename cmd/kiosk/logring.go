package main

import (
	"bytes"
	"sync"
)

// logRingSize is how many log lines diagnostics can show.
const logRingSize = 50

// logRing keeps the last lines written to it: the log handler writes to
// it alongside stderr, so that it holds the log's own text, masked as the
// log is, for the diagnostics screen. It is safe for concurrent use.
type logRing struct {
	mu      sync.Mutex
	lines   []string // at most size, oldest first from next once full
	next    int      // where the next line goes once full
	size    int
	partial []byte // a line not yet ended
}

func newLogRing(size int) *logRing { return &logRing{size: max(1, size)} }

// Write keeps every complete line of p; a trailing incomplete line waits
// for the next Write. It never fails.
func (r *logRing) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rest := p
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			r.partial = append(r.partial, rest...)
			if len(r.partial) > 64<<10 {
				// A runaway line: keep what came so far.
				r.add(string(r.partial))
				r.partial = nil
			}
			return len(p), nil
		}
		line := string(append(r.partial, rest[:i]...))
		r.partial = r.partial[:0]
		r.add(line)
		rest = rest[i+1:]
	}
}

// add keeps one line; r.mu is held.
func (r *logRing) add(line string) {
	if len(r.lines) < r.size {
		r.lines = append(r.lines, line)
		return
	}
	r.lines[r.next] = line
	r.next = (r.next + 1) % r.size
}

// Lines returns the lines kept, oldest first.
func (r *logRing) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.lines))
	out = append(out, r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...)
}
