package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	// The platform's zone must load where the machine has no zoneinfo.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// Defaults of the simulator's settings.
const (
	DefaultListen   = "127.0.0.1:8090"
	DefaultTimezone = "Asia/Shanghai"
	// maxFileSize bounds every file the simulator reads: keys, secrets and
	// card lists are small, so anything larger is a wrong path.
	maxFileSize = 1 << 20
)

// SimSettings mirror sim.yaml, the simulator's settings file. Paths are
// absolute once loaded.
type SimSettings struct {
	Listen             string     `yaml:"listen,omitempty"`
	AppKey             string     `yaml:"app_key,omitempty"`
	AppSecretFile      string     `yaml:"app_secret_file,omitempty"`
	ClientPublicKey    string     `yaml:"client_public_key,omitempty"`
	PlatformPrivateKey string     `yaml:"platform_private_key,omitempty"`
	Timezone           string     `yaml:"timezone,omitempty"`
	TokenTTL           string     `yaml:"token_ttl,omitempty"`
	TokenMinInterval   string     `yaml:"token_min_interval,omitempty"`
	MainPath           string     `yaml:"main_path,omitempty"`
	ProcessingFor      string     `yaml:"processing_for,omitempty"`
	CardsFile          string     `yaml:"cards_file,omitempty"`
	Cards              []sim.Card `yaml:"cards,omitempty"`

	// The field variations (sim.Options): ways a real platform
	// may protect the terminal less than the simulator does by default.
	// RefundsUncapped accepts a refund beyond what is left of its payment.
	RefundsUncapped bool `yaml:"refunds_uncapped,omitempty"`
	// QueryForgetsRefunds makes pay.query answer 78 for a refund's own
	// order_no.
	QueryForgetsRefunds bool `yaml:"query_forgets_refunds,omitempty"`
	// Hold holds a share of pays and refunds for late processing.
	Hold *SimHold `yaml:"hold,omitempty"`
	// DuplicateReply is the answer to a reused order_no: 60045 (the
	// default), 60070 or replay.
	DuplicateReply string `yaml:"duplicate_reply,omitempty"`
	// Strict refuses every field v2.42 does not list, the extensions
	// newer platforms accept included (retcode 40015), for conformance
	// tests of a client; off, they are answered or ignored and logged.
	Strict bool `yaml:"strict,omitempty"`
	// WrongPasswordRetcode is the answer to a query.card pwd that is not
	// the card's password: 60003 (the default, like an unknown identity)
	// or a retcode of the platform's own.
	WrongPasswordRetcode string `yaml:"wrong_password_retcode,omitempty"`
}

// SimHold is sim.yaml's hold, an sim.HoldPolicy: hold this
// fraction (0 to 1) of pays and refunds — close the connection unanswered
// — and process each for (a duration) later; seed picks which. Values are
// kept as written and checked by Options, so that an error names its key.
type SimHold struct {
	Fraction string `yaml:"fraction,omitempty"`
	For      string `yaml:"for,omitempty"`
	Seed     string `yaml:"seed,omitempty"`
}

// LoadSimSettings reads a sim.yaml; "" gives empty settings. Relative
// paths in it are made absolute against the file's directory. Errors are
// *Error: the file is the user's to fix.
func LoadSimSettings(path string) (SimSettings, error) {
	var st SimSettings
	if path == "" {
		return st, nil
	}
	data, err := ReadSmallFile(path)
	if err != nil {
		return st, errorf("--config: %w", err)
	}
	if err := DecodeYAML(data, &st); err != nil {
		return st, errorf("%s: %w", path, err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return st, errorf("%s: %w", path, err)
	}
	for _, p := range []*string{&st.AppSecretFile, &st.ClientPublicKey, &st.PlatformPrivateKey, &st.CardsFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return st, nil
}

// DecodeYAML decodes strictly: a misspelt key is an error, not a silently
// ignored setting. An empty document leaves v alone. A value of the wrong
// type is an error naming its key.
func DecodeYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return nameKeys(data, err)
	}
	return nil
}

// nameKeys puts in front of each "line N: ..." of a YAML type error the
// key whose value is on line N (the outermost, when a line has several),
// so that "cannot unmarshal !!str `maybe` into bool" says which setting.
func nameKeys(data []byte, err error) error {
	var te *yaml.TypeError
	var root yaml.Node
	if !errors.As(err, &te) || yaml.Unmarshal(data, &root) != nil {
		return err
	}
	keys := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind != yaml.MappingNode {
			for i, c := range n.Content {
				p := path
				if n.Kind == yaml.SequenceNode {
					p = fmt.Sprintf("%s[%d]", path, i)
				}
				walk(c, p)
			}
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			if val := n.Content[i+1]; keys[val.Line] == "" {
				keys[val.Line] = p
			}
			walk(n.Content[i+1], p)
		}
	}
	walk(&root, "")
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		var line int
		if _, serr := fmt.Sscanf(m, "line %d:", &line); serr == nil && keys[line] != "" {
			m = keys[line] + ": " + m
		}
		msgs[i] = m
	}
	return fmt.Errorf("yaml: %s", strings.Join(msgs, "; "))
}

// Options reads the files the settings name and returns the simulator's
// options (BaseURL, Now and Logf are the caller's). An empty Timezone is
// DefaultTimezone. Every problem is an *Error naming the setting, all of
// them joined.
func (st *SimSettings) Options() (sim.Options, error) {
	var o sim.Options
	var errs []error
	add := func(name string, err error) { errs = append(errs, errorf("%s: %w", name, err)) }

	o.AppKey = st.AppKey
	if o.AppKey == "" {
		add("app_key (--app-key)", errors.New("required"))
	}
	if st.AppSecretFile == "" {
		add("app_secret_file (--app-secret-file)", errors.New("required"))
	} else if data, err := ReadSmallFile(st.AppSecretFile); err != nil {
		add("app_secret_file", err)
	} else {
		o.AppSecret = strings.TrimSpace(string(data))
		if _, err := onecard.NewCipher(o.AppSecret); err != nil {
			add("app_secret_file", fmt.Errorf("%s: %w", st.AppSecretFile, err))
		}
	}
	if st.ClientPublicKey == "" {
		add("client_public_key (--client-public-key)", errors.New("required"))
	} else if data, err := ReadSmallFile(st.ClientPublicKey); err != nil {
		add("client_public_key", err)
	} else if o.ClientKey, err = onecard.ParsePublicKeyPEM(data); err != nil {
		add("client_public_key", fmt.Errorf("%s: %w", st.ClientPublicKey, err))
	}
	if st.PlatformPrivateKey != "" {
		if data, err := ReadSmallFile(st.PlatformPrivateKey); err != nil {
			add("platform_private_key", err)
		} else if o.PlatformKey, err = onecard.ParsePrivateKeyPEM(data); err != nil {
			add("platform_private_key", fmt.Errorf("%s: %w", st.PlatformPrivateKey, err))
		}
	}
	tz := st.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	if tz == "Local" {
		add("timezone", errors.New(`"Local" depends on this machine; name the platform's zone`))
	} else if loc, err := time.LoadLocation(tz); err != nil {
		add("timezone", err)
	} else {
		o.Location = loc
	}
	durations := []struct {
		name string
		v    string
		dst  *time.Duration
	}{
		{"token_ttl", st.TokenTTL, &o.TokenTTL},
		{"token_min_interval", st.TokenMinInterval, &o.TokenMinInterval},
		{"processing_for", st.ProcessingFor, &o.ProcessingFor},
	}
	for _, d := range durations {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil {
			add(d.name, fmt.Errorf("%q is not a duration such as 2h or 90s", d.v))
			continue
		}
		*d.dst = v
	}
	o.MainPath = st.MainPath
	o.RefundsUncapped, o.QueryForgetsRefunds, o.Strict = st.RefundsUncapped, st.QueryForgetsRefunds, st.Strict
	if st.Hold != nil {
		o.Hold = st.Hold.policy(add)
	}
	if err := sim.ValidateDuplicateReply(st.DuplicateReply); err != nil {
		add("duplicate_reply", err)
	} else {
		o.DuplicateReply = st.DuplicateReply
	}
	if st.WrongPasswordRetcode != "" {
		if err := sim.ValidateRetcode(st.WrongPasswordRetcode); err != nil {
			add("wrong_password_retcode", err)
		} else {
			o.WrongPasswordRetcode = st.WrongPasswordRetcode
		}
	}
	switch {
	case st.CardsFile != "":
		cards, err := LoadCards(st.CardsFile)
		if err != nil {
			add("cards_file (--cards)", err)
		}
		o.Cards = cards
	case st.Cards != nil:
		o.Cards = st.Cards
	}
	return o, errors.Join(errs...)
}

// policy parses the hold settings, passing each problem to add with the
// key's name.
func (h *SimHold) policy(add func(name string, err error)) sim.HoldPolicy {
	var p sim.HoldPolicy
	bad := false
	problem := func(name, format string, args ...any) {
		add("hold."+name, fmt.Errorf(format, args...))
		bad = true
	}
	switch x, err := strconv.ParseFloat(h.Fraction, 64); {
	case h.Fraction == "":
		problem("fraction", "required: the share of pays and refunds to hold, from 0 to 1")
	case err != nil || math.IsNaN(x) || x < 0 || x > 1:
		problem("fraction", "%q is not a number from 0 to 1, such as 0.25", h.Fraction)
	default:
		p.Fraction = x
	}
	switch d, err := time.ParseDuration(h.For); {
	case h.For == "" && p.Fraction > 0:
		problem("for", "required with a fraction above 0: how long a held request waits")
	case h.For == "":
	case err != nil || d <= 0:
		problem("for", "%q is not a positive duration such as 30s or 2m", h.For)
	default:
		p.For = d
	}
	if h.Seed != "" {
		n, err := strconv.ParseUint(h.Seed, 10, 64)
		if err != nil {
			problem("seed", "%q is not a whole number from 0 to 18446744073709551615", h.Seed)
		}
		p.Seed = n
	}
	if err := p.Validate(); err != nil && !bad {
		add("hold", err)
	}
	return p
}

// LoadCards reads a YAML or JSON list of cards.
func LoadCards(path string) ([]sim.Card, error) {
	data, err := ReadSmallFile(path)
	if err != nil {
		return nil, err
	}
	var cards []sim.Card
	if err := DecodeYAML(data, &cards); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(cards) == 0 {
		return nil, fmt.Errorf("%s holds no cards", path)
	}
	return cards, nil
}

// ReadSmallFile reads a regular file of at most 1 MiB, refusing devices
// and FIFOs, which a wrong path could name.
func ReadSmallFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if fi.Size() > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return os.ReadFile(path)
}
