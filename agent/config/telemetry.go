package config

import (
	"fmt"
	"net"
	"os"
	"strings"
	"unicode"
)

// Log formats (log.format) and levels (log.level).
const (
	LogText = "text"
	LogJSON = "json"

	DefaultLogFormat = LogText
	DefaultLogLevel  = "info"
)

// Log configures the structured log (the log section).
type Log struct {
	// Format is LogText (key=value, for a person at a terminal) or
	// LogJSON (one object a line, for a log shipper).
	Format string
	// Level is debug, info, warn or error.
	Level string
}

// Status configures the local status endpoint (the status section).
type Status struct {
	// Listen is host:port for /healthz, /status and /metrics; "" turns
	// the endpoint off.
	Listen string
	// Token, when set, must come as "Authorization: Bearer <token>" on
	// every request. It prints as "[redacted]" nowhere: keep it out of
	// logs by never logging the Status section whole.
	Token string
	// Public is true when Listen binds an address other than loopback,
	// which the file must say explicitly with allow_remote: true.
	Public bool
}

type rawLog struct {
	Format string `yaml:"format"`
	Level  string `yaml:"level"`
}

type rawStatus struct {
	Listen      string `yaml:"listen"`
	Token       string `yaml:"token"`
	TokenFile   string `yaml:"token_file"`
	AllowRemote string `yaml:"allow_remote"`
}

func checkLog(p *problems, out *Log, raw *rawLog) {
	switch f := strings.ToLower(raw.Format); f {
	case "":
		out.Format = DefaultLogFormat
	case LogText, LogJSON:
		out.Format = f
	default:
		p.addf("log.format", "%q is not one of %s, %s", raw.Format, LogText, LogJSON)
	}
	switch l := strings.ToLower(raw.Level); l {
	case "":
		out.Level = DefaultLogLevel
	case "debug", "info", "warn", "error":
		out.Level = l
	default:
		p.addf("log.level", "%q is not one of debug, info, warn, error", raw.Level)
	}
}

// minStatusTokenLen keeps a bearer token from being guessable by a
// neighbour on the campus network.
const minStatusTokenLen = 16

func checkStatus(p *problems, out *Status, raw *rawStatus, dir string) {
	remote := false
	switch strings.ToLower(raw.AllowRemote) {
	case "", "false", "no":
	case "true", "yes":
		remote = true
	default:
		p.addf("status.allow_remote", "%q is not true or false", raw.AllowRemote)
	}
	token := raw.Token
	switch {
	case raw.Token != "" && raw.TokenFile != "":
		p.addf("status.token_file", "set either token or token_file, not both")
	case raw.TokenFile != "":
		b, err := os.ReadFile(resolve(dir, raw.TokenFile))
		if err != nil {
			p.add("status.token_file", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token != "" {
		switch {
		case len(token) < minStatusTokenLen:
			p.addf("status.token", "%d characters, at least %d", len(token), minStatusTokenLen)
		case strings.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII }):
			p.addf("status.token", "holds a space, a control or a non-ASCII character")
		}
	}
	out.Token = token
	if raw.Listen == "" {
		return
	}
	host, port, err := net.SplitHostPort(raw.Listen)
	if err != nil {
		p.addf("status.listen", "%q is not host:port (%v)", raw.Listen, err)
		return
	}
	if port == "" {
		p.addf("status.listen", "%q names no port", raw.Listen)
		return
	}
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil {
		loopback = ip.IsLoopback()
	}
	if !loopback && !remote {
		p.addf("status.listen", "%q is not a loopback address: set status.allow_remote: true (and a token) to serve the network", raw.Listen)
		return
	}
	if !loopback && token == "" {
		p.addf("status.token", "required when status.listen is not a loopback address (%s)", fmt.Sprint(raw.Listen))
		return
	}
	out.Listen, out.Public = raw.Listen, !loopback
}
