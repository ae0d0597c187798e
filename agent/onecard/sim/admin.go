package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"time"
)

// maxAdminBody bounds an admin request body.
const maxAdminBody = 64 << 10

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path[len(AdminPrefix):]
	allowed := map[string][]string{
		"faults":       {http.MethodGet, http.MethodPost, http.MethodDelete},
		"clock":        {http.MethodGet, http.MethodPost},
		"processing":   {http.MethodGet, http.MethodPost},
		"ledger":       {http.MethodGet},
		"stats":        {http.MethodGet},
		"held":         {http.MethodGet},
		"held/release": {http.MethodPost},
	}[name]
	if allowed == nil {
		http.NotFound(w, r)
		return
	}
	if !slices.Contains(allowed, r.Method) {
		for _, m := range allowed {
			w.Header().Add("Allow", m)
		}
		adminError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	var body []byte
	if r.Method == http.MethodPost {
		// Requiring JSON keeps a web page of another origin from driving
		// the simulator with a plain form POST.
		if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
			adminError(w, http.StatusUnsupportedMediaType, "POST a body of Content-Type application/json")
			return
		}
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody)); err != nil {
			adminError(w, http.StatusBadRequest, "body unreadable or too large")
			return
		}
	}

	switch name + " " + r.Method {
	case "faults GET":
		writeJSON(w, s.Faults())
	case "faults POST":
		fs, err := decodeFaults(body)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.addFaults(fs)
		s.logf("onecard-sim: admin: %d fault(s) injected", len(fs))
		writeJSON(w, s.Faults())
	case "faults DELETE":
		s.ClearFaults()
		s.logf("onecard-sim: admin: faults cleared")
		writeJSON(w, s.Faults())
	case "clock POST":
		var req struct {
			Offset string `json:"offset"`
		}
		d, err := decodeDuration(body, &req, &req.Offset)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.SetClockOffset(d)
		s.logf("onecard-sim: admin: clock offset %s", d)
		s.writeClock(w)
	case "clock GET":
		s.writeClock(w)
	case "processing POST":
		var req struct {
			For string `json:"for"`
		}
		d, err := decodeDuration(body, &req, &req.For)
		if err == nil && d < 0 {
			err = errors.New("the window must not be negative")
		}
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.SetProcessingFor(d)
		s.logf("onecard-sim: admin: processing window %s", d)
		writeJSON(w, map[string]string{"for": d.String()})
	case "processing GET":
		writeJSON(w, map[string]string{"for": time.Duration(s.processingFor.Load()).String()})
	case "ledger GET":
		type balance struct {
			Account    string `json:"account"`
			Name       string `json:"name"`
			Balance    string `json:"balance"`
			BalanceFen int64  `json:"balance_fen"`
			Lost       bool   `json:"lost"`
			Frozen     bool   `json:"frozen"`
		}
		cards := s.Cards()
		bs := make([]balance, len(cards))
		for i, c := range cards {
			bs[i] = balance{c.Account, c.Name, c.Balance.Yuan(), int64(c.Balance), c.Lost, c.Frozen}
		}
		writeJSON(w, map[string]any{"now": s.Now().In(s.loc).Format(time.RFC3339), "transactions": s.Transactions(), "balances": bs})
	case "stats GET":
		writeJSON(w, s.Stats())
	case "held GET":
		writeJSON(w, map[string]int{"held": s.Held()})
	case "held/release POST":
		// The body, if any, must be an empty object: nothing to set.
		if len(bytes.TrimSpace(body)) > 0 {
			if err := strictJSON(body, &struct{}{}); err != nil {
				adminError(w, http.StatusBadRequest, err.Error())
				return
			}
		}
		n := s.ReleaseHeld()
		s.logf("onecard-sim: admin: %d held request(s) released", n)
		writeJSON(w, map[string]int{"released": n, "held": s.Held()})
	}
}

func (s *Server) writeClock(w http.ResponseWriter) {
	writeJSON(w, map[string]string{
		"offset": time.Duration(s.clockOffset.Load()).String(),
		"now":    s.Now().In(s.loc).Format(time.RFC3339),
	})
}

// decodeFaults reads one Fault or a list of them, all valid.
func decodeFaults(body []byte) ([]Fault, error) {
	var fs []Fault
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := strictJSON(trimmed, &fs); err != nil {
			return nil, err
		}
	} else {
		var f Fault
		if err := strictJSON(trimmed, &f); err != nil {
			return nil, err
		}
		fs = []Fault{f}
	}
	if len(fs) == 0 {
		return nil, errors.New("no fault given")
	}
	for _, f := range fs {
		if err := f.Validate(); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

// decodeDuration decodes body into req and parses the duration field it
// points at.
func decodeDuration(body []byte, req any, field *string) (time.Duration, error) {
	if err := strictJSON(body, req); err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(*field)
	if err != nil {
		return 0, fmt.Errorf("not a duration such as 5m or -30s: %w", err)
	}
	return d, nil
}

// strictJSON decodes one JSON value, refusing unknown keys and trailing
// data.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
