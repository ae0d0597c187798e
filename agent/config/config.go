// Package config loads the terminal's YAML configuration file, fills in
// defaults, checks every value and returns it typed: parsed URLs checked,
// the 3DES key decoded, RSA keys and CA bundle parsed, the platform's time
// zone loaded. A file that loads is ready to use; every problem is reported
// at start-up as an *Error naming the file and the field, never later as a
// failed payment.
//
// configs/kiosk.example.yaml in the repository documents every key.
package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	// The platform's zone must load on kiosks without zoneinfo and in
	// containers running with TZ=UTC.
	_ "time/tzdata"
)

// Defaults applied when a key is absent or empty.
const (
	DefaultTimezone = "Asia/Shanghai"
	DefaultTimeout  = 10 * time.Second
	DefaultAccType  = "###"
	// BillPath is appended to the origin of platform.url when bill_url is
	// not set: the spec sends the bill download to <base>/onecard/uap/downbill.do.
	BillPath = "/onecard/uap/downbill.do"
)

// Limits checked by validation; sizes are in bytes, as the spec's tables count
// them.
const (
	MaxTimeout    = 2 * time.Minute
	MaxAppKeyLen  = 128
	DESKeyLen     = 24
	MaxMercAccLen = 10
	MaxAccTypeLen = 3
	MinTermID     = 1
	MaxTermID     = 9999
)

// Config is a loaded, checked configuration. Paths in it are absolute when
// Load produced it.
type Config struct {
	// File is the path Load read, or "" when the Config came from Parse.
	File     string
	Platform Platform
	Terminal Terminal
	Store    Store
	// Offline bounds what the terminal accepts while the platform is
	// unreachable.
	Offline Offline
	// Reconcile tunes the settling of unfinished orders.
	Reconcile Reconcile
	// Settlement says when the terminal settles each platform day.
	Settlement Settlement
	// Payment says when a payment needs the card's query password.
	Payment Payment
	// Devices are the scanners and card readers, in file order.
	Devices []Device
	// IDRules map scans to query idtypes ahead of the defaults.
	IDRules []IDRule
	// UI configures the kiosk's screens; kioskctl ignores it.
	UI UI
	// Log configures the structured log.
	Log Log
	// Status configures the kiosk's local status endpoint.
	Status Status
	// Warnings lists problems that do not stop the agent but that an
	// operator should fix, such as a private key readable by other users.
	Warnings []string
}

// Platform is how to reach and authenticate to the one-card platform.
type Platform struct {
	// URL receives every API call except the bill download.
	URL string
	// BillURL receives synjones.onecard.down.bill.
	BillURL string
	// AppKey identifies the application to the platform.
	AppKey string
	// Secrets holds app_secret, its 3DES key and the client private key;
	// it prints as "[redacted]".
	Secrets Secrets
	// PrivateKeyFile is where the client private key was read from.
	PrivateKeyFile string
	// PublicKeyFile is where PublicKey was read from, or "".
	PublicKeyFile string
	// PublicKey verifies the platform's reply signatures; nil turns
	// verification off.
	PublicKey *rsa.PublicKey
	// Timezone is the IANA name of the platform's zone, which request
	// timestamps are written in.
	Timezone string
	// Location is Timezone loaded.
	Location *time.Location
	// Timeout bounds one HTTP exchange with the platform.
	Timeout time.Duration
	// CAFile is where RootCAs was read from, or "".
	CAFile string
	// RootCAs, when not nil, replaces the system roots for HTTPS to the
	// platform, for campuses that run their own CA.
	RootCAs *x509.CertPool
}

// Terminal identifies this terminal to the platform.
type Terminal struct {
	// TermID is the one-card terminal number, 1–9999, in canonical decimal
	// form ("17", even if the file says 0017), as sent on the wire.
	TermID string
	// MercAcc is the merchant account payments are credited to.
	MercAcc string
	// AccType is the account type charged; "###" is the card account.
	AccType string
	// Mode is ModeCanteen (staffed till) or ModeKiosk (self-service).
	Mode string
}

// Store is where the terminal keeps its order journal and token.
type Store struct {
	// Path is the bbolt database file.
	Path string
}

// Load reads, checks and returns the configuration file at path. Relative
// paths inside it are resolved against the file's directory. Errors are
// *Error values (several joined with errors.Join) naming path and field.
func Load(path string) (*Config, error) {
	data, fi, err := readSmallFile(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	cfg, err := parse(data, dir, path)
	if err != nil {
		return nil, err
	}
	cfg.File = path
	if exposedMode(fi) {
		// The file holds app_secret in clear text.
		cfg.Warnings = append([]string{fmt.Sprintf(
			"%s holds platform.app_secret and is readable by group or others (mode %04o); chmod 600 it",
			path, fi.Mode().Perm())}, cfg.Warnings...)
	}
	return cfg, nil
}

// Parse checks the configuration in data as Load does. Relative paths in it
// are resolved against dir ("" means the working directory); errors carry an
// empty File.
func Parse(data []byte, dir string) (*Config, error) {
	return parse(data, dir, "")
}

func parse(data []byte, dir, file string) (*Config, error) {
	if len(data) > maxFileSize {
		return nil, &Error{File: file, Err: fmt.Errorf("larger than %d bytes", maxFileSize)}
	}
	raw, lines, err := decode(data, file)
	if err != nil {
		return nil, err
	}
	p := &problems{file: file, lines: lines}
	cfg := &Config{}
	checkPlatform(p, &cfg.Platform, &raw.Platform, dir, &cfg.Warnings)
	checkTerminal(p, &cfg.Terminal, &raw.Terminal)
	checkOffline(p, &cfg.Offline, &raw.Offline, cfg.Terminal.Mode)
	checkReconcile(p, &cfg.Reconcile, &raw.Reconcile)
	checkSettlement(p, &cfg.Settlement, &raw.Settlement)
	checkDevices(p, cfg, raw.Devices, raw.IDRules)
	checkUI(p, &cfg.UI, &raw.UI, cfg.Terminal.Mode, dir, &cfg.Warnings)
	checkPayment(p, &cfg.Payment, &raw.Payment, cfg.UI.Mode)
	checkLog(p, &cfg.Log, &raw.Log)
	checkStatus(p, &cfg.Status, &raw.Status, dir)
	if raw.Store.Path == "" {
		p.add("store.path", ErrRequired)
	} else {
		cfg.Store.Path = resolve(dir, raw.Store.Path)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func checkPlatform(p *problems, out *Platform, raw *rawPlatform, dir string, warnings *[]string) {
	if u, err := checkURL(raw.URL); err != nil {
		p.add("platform.url", err)
	} else {
		out.URL = raw.URL
		if raw.BillURL == "" {
			out.BillURL = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: BillPath}).String()
		}
		if raw.CAFile != "" && u.Scheme != "https" {
			*warnings = append(*warnings, "platform.ca_file is set but platform.url is not https, so it is not used")
		}
	}
	if raw.BillURL != "" {
		if _, err := checkURL(raw.BillURL); err != nil {
			p.add("platform.bill_url", err)
		} else {
			out.BillURL = raw.BillURL
		}
	}

	switch {
	case raw.AppKey == "":
		p.add("platform.app_key", ErrRequired)
	case len(raw.AppKey) > MaxAppKeyLen:
		p.addf("platform.app_key", "%d bytes long, at most %d allowed", len(raw.AppKey), MaxAppKeyLen)
	default:
		out.AppKey = raw.AppKey
	}

	var m secretMaterial
	if key, err := checkAppSecret(raw.AppSecret); err != nil {
		p.add("platform.app_secret", err)
	} else {
		m.appSecret, m.desKey = strings.TrimSpace(raw.AppSecret), key
	}

	if raw.PrivateKey == "" {
		p.add("platform.private_key", ErrRequired)
	} else {
		out.PrivateKeyFile = resolve(dir, raw.PrivateKey)
		data, fi, err := readSmallFile(out.PrivateKeyFile)
		if err == nil {
			m.privateKey, err = parsePrivateKey(data)
			if err != nil {
				err = fmt.Errorf("%s: %w", out.PrivateKeyFile, err)
			}
		}
		if err != nil {
			p.add("platform.private_key", err)
		} else if exposedMode(fi) {
			*warnings = append(*warnings, fmt.Sprintf(
				"platform.private_key: %s is readable by group or others (mode %04o); chmod 600 it",
				out.PrivateKeyFile, fi.Mode().Perm()))
		}
	}
	out.Secrets = newSecrets(m)

	if raw.PublicKey != "" {
		out.PublicKeyFile = resolve(dir, raw.PublicKey)
		data, _, err := readSmallFile(out.PublicKeyFile)
		if err == nil {
			out.PublicKey, err = parsePublicKey(data)
			if err != nil {
				err = fmt.Errorf("%s: %w", out.PublicKeyFile, err)
			}
		}
		if err != nil {
			p.add("platform.public_key", err)
		}
	}

	out.Timezone = raw.Timezone
	if out.Timezone == "" {
		out.Timezone = DefaultTimezone
	}
	if loc, err := loadLocation(out.Timezone); err != nil {
		p.add("platform.timezone", err)
	} else {
		out.Location = loc
	}

	out.Timeout = DefaultTimeout
	if raw.Timeout != "" {
		d, err := time.ParseDuration(raw.Timeout)
		switch {
		case err != nil:
			p.addf("platform.timeout", "%q is not a duration such as 10s or 1m30s", raw.Timeout)
		case d <= 0 || d > MaxTimeout:
			p.addf("platform.timeout", "%s is out of range, want more than 0 and at most %s", d, MaxTimeout)
		default:
			out.Timeout = d
		}
	}

	if raw.CAFile != "" {
		out.CAFile = resolve(dir, raw.CAFile)
		data, _, err := readSmallFile(out.CAFile)
		if err == nil {
			out.RootCAs, err = parseCAPool(data)
			if err != nil {
				err = fmt.Errorf("%s: %w", out.CAFile, err)
			}
		}
		if err != nil {
			p.add("platform.ca_file", err)
		}
	}
}

func checkTerminal(p *problems, out *Terminal, raw *rawTerminal) {
	if id, err := checkTermID(raw.TermID); err != nil {
		p.add("terminal.termid", err)
	} else {
		out.TermID = id
	}

	switch {
	case raw.MercAcc == "":
		p.add("terminal.mercacc", ErrRequired)
	case len(raw.MercAcc) > MaxMercAccLen:
		p.addf("terminal.mercacc", "%q is %d bytes long, at most %d allowed", raw.MercAcc, len(raw.MercAcc), MaxMercAccLen)
	default:
		out.MercAcc = raw.MercAcc
	}

	out.AccType = raw.AccType
	if out.AccType == "" {
		out.AccType = DefaultAccType
	}
	if len(out.AccType) > MaxAccTypeLen {
		p.addf("terminal.acctype", "%q is %d bytes long, at most %d allowed", out.AccType, len(out.AccType), MaxAccTypeLen)
	}

	checkMode(p, out, raw.Mode)
}

// checkURL accepts an absolute http or https URL. User credentials are
// refused because URLs end up in logs, and for the same reason the errors do
// not quote the value.
func checkURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, ErrRequired
	}
	u, err := url.Parse(s)
	if err != nil {
		// *url.Error repeats the whole URL, credentials included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.User != nil:
		return nil, errors.New("must not contain a user name or password")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must start with http:// or https://")
	case u.Hostname() == "":
		return nil, errors.New("has no host")
	case strings.Contains(s, "#"):
		return nil, errors.New("must not contain a #fragment")
	}
	return u, nil
}

// checkAppSecret decodes app_secret to the 3DES key. Neither the value nor
// any part of it appears in the errors.
func checkAppSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrRequired
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("not standard base64 (bad input at byte %d)", int64(ce))
		}
		return nil, errors.New("not standard base64")
	}
	if len(key) != DESKeyLen {
		return nil, fmt.Errorf("decodes to %d bytes, want %d", len(key), DESKeyLen)
	}
	return key, nil
}

// checkTermID accepts 1–9999 written with digits only and returns it without
// leading zeros, the form the platform is sent.
func checkTermID(s string) (string, error) {
	if s == "" {
		return "", ErrRequired
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("%q is not a whole number from %d to %d", s, MinTermID, MaxTermID)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < MinTermID || n > MaxTermID {
		return "", fmt.Errorf("%q is out of range, want %d to %d", s, MinTermID, MaxTermID)
	}
	return strconv.Itoa(n), nil
}

// loadLocation refuses "Local": request timestamps must be in the platform's
// zone whatever the kiosk's own zone is set to.
func loadLocation(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`"Local" depends on the kiosk's settings; name the platform's zone, such as Asia/Shanghai`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("not a known IANA time zone such as Asia/Shanghai: %w", err)
	}
	return loc, nil
}

// resolve makes a path from the file relative to the file's directory.
func resolve(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
