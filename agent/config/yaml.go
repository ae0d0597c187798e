package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// rawConfig mirrors the file. Every field is a string so that the decoder
// accepts `termid: 17` and `termid: "17"` alike and validation, not the YAML
// library, decides what a value means and how to word the error.
type rawConfig struct {
	Platform   rawPlatform   `yaml:"platform"`
	Terminal   rawTerminal   `yaml:"terminal"`
	Store      rawStore      `yaml:"store"`
	Offline    rawOffline    `yaml:"offline"`
	Reconcile  rawReconcile  `yaml:"reconcile"`
	Settlement rawSettlement `yaml:"settlement"`
	Payment    rawPayment    `yaml:"payment"`
	Devices    []rawDevice   `yaml:"devices"`
	IDRules    []rawIDRule   `yaml:"id_rules"`
	UI         rawUI         `yaml:"ui"`
	Log        rawLog        `yaml:"log"`
	Status     rawStatus     `yaml:"status"`
}

type rawPlatform struct {
	URL        string `yaml:"url"`
	BillURL    string `yaml:"bill_url"`
	AppKey     string `yaml:"app_key"`
	AppSecret  string `yaml:"app_secret"`
	PrivateKey string `yaml:"private_key"`
	PublicKey  string `yaml:"public_key"`
	Timezone   string `yaml:"timezone"`
	Timeout    string `yaml:"timeout"`
	CAFile     string `yaml:"ca_file"`
}

type rawTerminal struct {
	TermID  string `yaml:"termid"`
	MercAcc string `yaml:"mercacc"`
	AccType string `yaml:"acctype"`
	Mode    string `yaml:"mode"`
}

type rawStore struct {
	Path string `yaml:"path"`
}

// rawOffline keeps enabled as a string too: "" (absent) is how validation
// tells "not said" from an explicit false, and the default depends on
// terminal.mode.
type rawOffline struct {
	Enabled       string `yaml:"enabled"`
	MaxAmount     string `yaml:"max_amount"`
	MaxTotal      string `yaml:"max_total"`
	MaxCount      string `yaml:"max_count"`
	MaxPerCardDay string `yaml:"max_per_card_day"`
	CardMaxAge    string `yaml:"card_max_age"`
}

type rawReconcile struct {
	Interval    string `yaml:"interval"`
	MaxInterval string `yaml:"max_interval"`
	GiveUpAfter string `yaml:"give_up_after"`
	Orphans     string `yaml:"orphans"`
}

// keyPos is where a key sits in the file, for turning the YAML library's
// line-numbered messages into field paths.
type keyPos struct {
	path      string
	name      string
	keyLine   int
	valueLine int
	valueTag  string
}

var (
	yamlLineRE     = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (.*) not found in type `)
	cannotDecodeRE = regexp.MustCompile(`^line (\d+): cannot unmarshal (!!\w+)`)
	duplicateRE    = regexp.MustCompile(`^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
)

// decode turns the file into rawConfig, refusing unknown keys, and returns the
// line of every key it found. YAML-level problems come back as *Error values
// whose messages never quote a value from the file, because the value might
// be the app_secret.
func decode(data []byte, file string) (rawConfig, map[string]int, error) {
	var raw rawConfig
	p := &problems{file: file}

	// First pass: the node tree, for syntax errors and key positions.
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add("", errors.New("file holds no settings"))
			return raw, nil, p.err()
		}
		p.errs = append(p.errs, syntaxError(file, err))
		return raw, nil, p.err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			p.errs = append(p.errs, syntaxError(file, err))
		} else {
			p.errs = append(p.errs, &Error{File: file, Line: extra.Line, Err: errors.New("file holds more than one YAML document")})
		}
		return raw, nil, p.err()
	}
	var keys []keyPos
	walkKeys(&doc, "", &keys)
	lines := make(map[string]int, len(keys))
	for _, k := range keys {
		if _, seen := lines[k.path]; !seen {
			lines[k.path] = k.keyLine
		}
	}
	p.lines = lines

	// Second pass: the typed decode. The yaml.Node API has no way to refuse
	// unknown keys, hence a second decoder over the same bytes.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	err := strict.Decode(&raw)
	if err == nil {
		return raw, lines, nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		p.errs = append(p.errs, syntaxError(file, err))
		return raw, lines, p.err()
	}
	for _, msg := range te.Errors {
		p.errs = append(p.errs, typeError(file, msg, keys))
	}
	return raw, lines, p.err()
}

// walkKeys records the path and lines of every mapping key. Aliases are not
// followed: they are rare in a config and following them invites blow-ups.
func walkKeys(n *yaml.Node, prefix string, out *[]keyPos) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walkKeys(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			path := k.Value
			if prefix != "" {
				path = prefix + "." + k.Value
			}
			*out = append(*out, keyPos{path: path, name: k.Value, keyLine: k.Line, valueLine: v.Line, valueTag: v.ShortTag()})
			walkKeys(v, path, out)
		}
	}
}

// syntaxError wraps a parse error of the YAML library, lifting its line
// number into Error.Line.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: file, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
}

// typeError rewrites one message of yaml.TypeError into an *Error naming the
// field. The library's "cannot unmarshal" text quotes the start of the value,
// so it is never passed through.
func typeError(file, msg string, keys []keyPos) *Error {
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Field: keyAt(keys, line, m[2]), Line: line, Err: ErrUnknownKey}
	}
	if m := cannotDecodeRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Field: valueAt(keys, line, m[2]), Line: line,
			Err: fmt.Errorf("wrong kind of value (%s); see configs/kiosk.example.yaml", kindName(m[2]))}
	}
	if m := duplicateRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Field: keyAt(keys, line, m[2]), Line: line,
			Err: fmt.Errorf("key repeated (first at line %s)", m[3])}
	}
	return &Error{File: file, Err: errors.New("cannot be decoded")}
}

// keyAt returns the path of the key called name on line, or name itself when
// the key cannot be found.
func keyAt(keys []keyPos, line int, name string) string {
	for _, k := range keys {
		if k.keyLine == line && k.name == name {
			return k.path
		}
	}
	return name
}

// valueAt returns the path of the key whose value of kind tag starts on line.
// Flow mappings put several values on one line; the deepest one is the one
// the decoder was inside when it failed, since it stops at the first error
// in a value.
func valueAt(keys []keyPos, line int, tag string) string {
	field, fallback := "", ""
	for _, k := range keys {
		if k.valueLine != line {
			continue
		}
		if k.valueTag == tag {
			field = k.path
		} else if fallback == "" {
			fallback = k.path
		}
	}
	if field == "" {
		return fallback
	}
	return field
}

// kindName says in words what a YAML tag is.
func kindName(tag string) string {
	switch tag {
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary":
		return "a single value"
	default:
		return tag
	}
}
