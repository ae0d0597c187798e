package sim

import (
	"encoding/json"
	"errors"
	"math"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/campuspos/kiosk/agent/onecard"
)

// Late processing: a platform that queues requests may process one after
// its client gave up waiting, so that a pay.query sent in between answers
// 78 and a later one 60. The simulator holds a request once the system
// layer (signature, token…) has passed it, closes the connection without
// an answer, and runs the business part when the request's timer fires or
// ReleaseHeld is called, with the platform's clock of that moment.

// HoldPolicy makes the simulator hold a share of pay and refund requests
// for late processing. The zero value holds none.
type HoldPolicy struct {
	// Fraction is the share of pay and refund requests held, from 0 to 1.
	// Only requests that pass the system layer and that no fault hit are
	// candidates.
	Fraction float64
	// For is how long a held request waits before it is processed; it
	// must be positive when Fraction is.
	For time.Duration
	// Seed seeds the generator that picks the requests (math/rand/v2
	// PCG), so that a run with the same requests in the same order holds
	// the same ones.
	Seed uint64
}

// Validate reports what is wrong with a policy, if anything.
func (h HoldPolicy) Validate() error {
	switch {
	case math.IsNaN(h.Fraction) || h.Fraction < 0 || h.Fraction > 1:
		return errors.New("Fraction must be from 0 to 1")
	case h.For < 0:
		return errors.New("For is negative")
	case h.Fraction > 0 && h.For == 0:
		return errors.New("For must be positive when Fraction is set")
	}
	return nil
}

// rand returns the policy's generator, nil when it holds nothing.
func (h HoldPolicy) rand() *mrand.Rand {
	if h.Fraction == 0 {
		return nil
	}
	return mrand.New(mrand.NewPCG(h.Seed, h.Seed))
}

// heldRequest is a request that passed the system layer and waits for its
// business part.
type heldRequest struct {
	method, key string
	params      map[string]json.RawMessage
	timer       *time.Timer
}

// holdFor returns how long to hold a request that passed the system layer,
// 0 to process it now; s.mu is held. The generator is drawn only for pays
// and refunds that no fault hit, so that the same requests draw the same
// numbers.
func (s *Server) holdFor(method string, fault *Fault) time.Duration {
	switch {
	case fault != nil:
		if fault.Kind == FaultLate {
			return fault.Delay
		}
		return 0
	case s.holdRand == nil || (method != onecard.MethodPay && method != onecard.MethodRefund):
		return 0
	case s.holdRand.Float64() < s.opts.Hold.Fraction:
		return s.opts.Hold.For
	}
	return 0
}

// hold queues h to be processed after d; s.mu is held. A request that
// arrives while the server closes is dropped.
func (s *Server) hold(h *heldRequest, d time.Duration) {
	if s.closed {
		return
	}
	s.stats.Held++
	s.held = append(s.held, h)
	s.lateWG.Add(1)
	h.timer = time.AfterFunc(d, func() { s.fire(h) })
}

// fire processes h when its timer expires, unless ReleaseHeld or Close
// took it first.
func (s *Server) fire(h *heldRequest) {
	defer s.lateWG.Done()
	s.mu.Lock()
	i := slices.Index(s.held, h)
	if i < 0 {
		s.mu.Unlock()
		return
	}
	s.held = slices.Delete(s.held, i, i+1)
	line := s.processLate(h)
	s.mu.Unlock()
	s.logf("%s", line)
}

// take removes every held request and stops its timer; s.mu is held. A
// timer that already fired finds its request gone and only signs off.
func (s *Server) take() []*heldRequest {
	hs := s.held
	s.held = nil
	for _, h := range hs {
		if h.timer.Stop() {
			s.lateWG.Done()
		}
	}
	return hs
}

// processLate runs the business part of a held request on the clock of
// now and returns the log line; s.mu is held.
func (s *Server) processLate(h *heldRequest) string {
	rep := s.business(h.method, h.key, h.params, s.Now())
	s.stats.ProcessedLate++
	s.countCodes(rep.errcode, rep.retcode)
	return "onecard-sim: " + shortMethod(h.method) + " processed late: retcode " + orDash(rep.retcode) + rep.note
}

// ReleaseHeld processes every held request now, in the order they arrived,
// and returns how many there were.
func (s *Server) ReleaseHeld() int {
	s.mu.Lock()
	hs := s.take()
	lines := make([]string, len(hs))
	for i, h := range hs {
		lines[i] = s.processLate(h)
	}
	s.mu.Unlock()
	for _, l := range lines {
		s.logf("%s", l)
	}
	return len(hs)
}

// Held returns how many requests wait for late processing.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// dropHeld drops the held requests unprocessed, refuses new ones and waits
// for timer callbacks already running.
func (s *Server) dropHeld() {
	s.mu.Lock()
	s.closed = true
	n := len(s.take())
	s.stats.HeldDropped += n
	s.mu.Unlock()
	s.lateWG.Wait()
	if n > 0 {
		s.logf("onecard-sim: closed with %d held request(s), dropped unprocessed", n)
	}
}
