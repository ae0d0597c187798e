package sim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/campuspos/kiosk/agent/onecard"
)

// FaultKind names a way the platform's transport misbehaves.
type FaultKind string

// Fault kinds.
const (
	// FaultDropRequest reads the request, then closes the connection
	// without processing it or answering.
	FaultDropRequest FaultKind = "drop-request"
	// FaultDropReply processes and commits the request, then closes the
	// connection without answering: the client cannot know the outcome.
	FaultDropReply FaultKind = "drop-reply"
	// FaultDelay waits Fault.Delay before processing; if the client goes
	// away (or the server closes) meanwhile the request is not processed.
	FaultDelay FaultKind = "delay"
	// FaultLate checks the request (the system layer), then closes the
	// connection without answering and holds the request: its business
	// part runs Fault.Delay later, or at ReleaseHeld, on the platform's
	// clock of that moment, so that a pay.query can overtake it. Close
	// drops it unprocessed. A request the system layer refuses is
	// answered at once.
	FaultLate FaultKind = "late"
	// FaultHTTP500 answers HTTP 500 with a short text body.
	FaultHTTP500 FaultKind = "http500"
	// FaultGarbage answers HTTP 200 with random bytes that are no
	// envelope.
	FaultGarbage FaultKind = "garbage"
	// FaultBadSignature sends the correct reply with its signature
	// corrupted. A successful bill download carries no signature and is
	// sent unchanged.
	FaultBadSignature FaultKind = "bad-signature"
	// FaultText answers HTTP 200 with bare GBK-encoded text (BusyText), no
	// envelope, as some deployments do.
	FaultText FaultKind = "text"
)

// BusyText is the text FaultText sends, GBK-encoded.
const BusyText = "系统繁忙，请稍后再试"

// InternalErrorText is the body FaultHTTP500 sends.
const InternalErrorText = "500 Internal Server Error"

// Fault is one injected misbehaviour.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Method limits the fault to one method name; "" means every request.
	Method string `json:"method,omitempty"`
	// Times is how many requests the fault hits; 0 means until cleared.
	Times int `json:"times,omitempty"`
	// Delay is FaultDelay's wait, or how long FaultLate holds the request.
	// In JSON it is a Go duration string.
	Delay time.Duration `json:"-"`
	// AfterCommit makes FaultHTTP500, FaultGarbage and FaultText process
	// the request first, so the platform acted although the client sees a
	// failure.
	AfterCommit bool `json:"after_commit,omitempty"`
}

// faultJSON carries Delay as a readable duration.
type faultJSON struct {
	Kind        FaultKind `json:"kind"`
	Method      string    `json:"method,omitempty"`
	Times       int       `json:"times,omitempty"`
	Delay       string    `json:"delay,omitempty"`
	AfterCommit bool      `json:"after_commit,omitempty"`
}

// MarshalJSON writes Delay as a duration string such as "5s".
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Kind: f.Kind, Method: f.Method, Times: f.Times, AfterCommit: f.AfterCommit}
	if f.Delay != 0 {
		j.Delay = f.Delay.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes, refusing unknown keys.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	if err := strictJSON(b, &j); err != nil {
		return err
	}
	*f = Fault{Kind: j.Kind, Method: j.Method, Times: j.Times, AfterCommit: j.AfterCommit}
	if j.Delay != "" {
		d, err := time.ParseDuration(j.Delay)
		if err != nil {
			return fmt.Errorf("delay: %w", err)
		}
		f.Delay = d
	}
	return nil
}

// Validate reports what is wrong with a fault, if anything.
func (f Fault) Validate() error {
	switch f.Kind {
	case FaultDropRequest, FaultDropReply, FaultHTTP500, FaultGarbage, FaultBadSignature, FaultText:
		if f.Delay != 0 {
			return fmt.Errorf("fault %s: delay only applies to %s and %s", f.Kind, FaultDelay, FaultLate)
		}
	case FaultDelay, FaultLate:
		if f.Delay <= 0 {
			return fmt.Errorf("fault %s: delay must be positive", f.Kind)
		}
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Times < 0 {
		return fmt.Errorf("fault %s: times is negative", f.Kind)
	}
	if f.Method != "" {
		if _, ok := onecard.RequestKey(f.Method); !ok {
			return fmt.Errorf("fault %s: unknown method %q", f.Kind, f.Method)
		}
	}
	return nil
}

type activeFault struct {
	Fault
	left int // requests still to hit; -1 until cleared
}

// InjectFault adds a fault. Faults are tried in the order injected and at
// most one hits a request. An invalid fault (see Validate) panics: it is a
// mistake in the test, not a condition to handle.
func (s *Server) InjectFault(f Fault) {
	if err := f.Validate(); err != nil {
		panic("sim: " + err.Error())
	}
	s.addFaults([]Fault{f})
}

func (s *Server) addFaults(fs []Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range fs {
		left := f.Times
		if left == 0 {
			left = -1
		}
		s.faults = append(s.faults, &activeFault{Fault: f, left: left})
	}
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Faults returns the active faults; Times is what is left of each.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, a := range s.faults {
		out[i] = a.Fault
		out[i].Times = max(a.left, 0)
	}
	return out
}

// takeFault returns the fault that hits a request for method, if any, and
// uses it up.
func (s *Server) takeFault(method string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.faults {
		if a.Method != "" && a.Method != method {
			continue
		}
		if a.left > 0 {
			a.left--
			if a.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.stats.FaultsFired[a.Kind]++
		f := a.Fault
		return &f
	}
	return nil
}

// hijackClose closes the connection without a response.
func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// HTTP/2 cannot be hijacked; aborting the handler resets the stream.
	panic(http.ErrAbortHandler)
}

// writeFaultBody answers with the body of an http500, garbage or text
// fault.
func writeFaultBody(w http.ResponseWriter, k FaultKind) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	switch k {
	case FaultHTTP500:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(InternalErrorText))
	case FaultGarbage:
		b := make([]byte, 96)
		_, _ = rand.Read(b)
		// A high first byte keeps the body from looking like an envelope,
		// a bill ('#') or base64 text.
		b[0] |= 0x80
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	case FaultText:
		gbk, _ := simplifiedchinese.GBK.NewEncoder().String(BusyText)
		w.Header().Set("Content-Type", "text/plain; charset=GBK")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(gbk))
	}
}

// encodeEnvelope signs a reply; corrupt flips a bit of the signature (or
// invents one when the server has no key) so that it no longer verifies.
func (s *Server) encodeEnvelope(errcode, request string, with, corrupt bool) ([]byte, error) {
	key := s.opts.PlatformKey
	if !corrupt {
		return onecard.EncodeReply(errcode, request, with, key)
	}
	body, err := onecard.EncodeReply(errcode, request, with, nil)
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 256)
	if key != nil {
		r := onecard.Reply{Errcode: errcode, Request: request, HasRequest: with}
		text, err := onecard.Sign(key, r.Fields())
		if err != nil {
			return nil, err
		}
		if sig, err = base64.StdEncoding.DecodeString(text); err != nil {
			return nil, err
		}
	} else {
		_, _ = rand.Read(sig)
	}
	sig[len(sig)/2] ^= 0x01
	return append(body, "&sign="+url.QueryEscape(base64.StdEncoding.EncodeToString(sig))...), nil
}
