package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The platform's zone must load where the machine has no zoneinfo.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
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
	Listen             string             `yaml:"listen,omitempty"`
	AppKey             string             `yaml:"app_key,omitempty"`
	AppSecretFile      string             `yaml:"app_secret_file,omitempty"`
	ClientPublicKey    string             `yaml:"client_public_key,omitempty"`
	PlatformPrivateKey string             `yaml:"platform_private_key,omitempty"`
	Timezone           string             `yaml:"timezone,omitempty"`
	TokenTTL           string             `yaml:"token_ttl,omitempty"`
	TokenMinInterval   string             `yaml:"token_min_interval,omitempty"`
	MainPath           string             `yaml:"main_path,omitempty"`
	ProcessingFor      string             `yaml:"processing_for,omitempty"`
	CardsFile          string             `yaml:"cards_file,omitempty"`
	Cards              []onecardtest.Card `yaml:"cards,omitempty"`
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
// ignored setting. An empty document leaves v alone.
func DecodeYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Options reads the files the settings name and returns the simulator's
// options (BaseURL, Now and Logf are the caller's). An empty Timezone is
// DefaultTimezone. Every problem is an *Error naming the setting, all of
// them joined.
func (st *SimSettings) Options() (onecardtest.Options, error) {
	var o onecardtest.Options
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

// LoadCards reads a YAML or JSON list of cards.
func LoadCards(path string) ([]onecardtest.Card, error) {
	data, err := ReadSmallFile(path)
	if err != nil {
		return nil, err
	}
	var cards []onecardtest.Card
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
