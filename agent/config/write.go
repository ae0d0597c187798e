package config

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// File is the configuration as a program writes it (the demo, the
// simulator's test helper): the sections and keys they set, in the format
// Load reads. Empty keys and sections are left out, so Load's defaults
// apply to them. It is the one writer of the kiosk's YAML.
type File struct {
	Platform   FilePlatform    `yaml:"platform"`
	Terminal   FileTerminal    `yaml:"terminal"`
	Store      FileStore       `yaml:"store"`
	Reconcile  *FileReconcile  `yaml:"reconcile,omitempty"`
	Settlement *FileSettlement `yaml:"settlement,omitempty"`
	Devices    []FileDevice    `yaml:"devices,omitempty"`
	IDRules    []FileIDRule    `yaml:"id_rules,omitempty"`
	UI         *FileUI         `yaml:"ui,omitempty"`
	Status     *FileStatus     `yaml:"status,omitempty"`
}

// FilePlatform is the platform section as written.
type FilePlatform struct {
	URL        string `yaml:"url"`
	AppKey     string `yaml:"app_key"`
	AppSecret  string `yaml:"app_secret,omitempty"`
	PrivateKey string `yaml:"private_key"`
	PublicKey  string `yaml:"public_key,omitempty"`
	Timezone   string `yaml:"timezone,omitempty"`
	Timeout    string `yaml:"timeout,omitempty"`
}

// FileTerminal is the terminal section as written.
type FileTerminal struct {
	TermID  string `yaml:"termid"`
	MercAcc string `yaml:"mercacc"`
	AccType string `yaml:"acctype,omitempty"`
}

// FileStore is the store section as written.
type FileStore struct {
	Path string `yaml:"path"`
}

// FileReconcile is the reconcile section as written.
type FileReconcile struct {
	Interval    string `yaml:"interval,omitempty"`
	MaxInterval string `yaml:"max_interval,omitempty"`
}

// FileSettlement is the settlement section as written.
type FileSettlement struct {
	At     string `yaml:"at,omitempty"`
	Jitter string `yaml:"jitter,omitempty"`
}

// FileDevice is one device as written.
type FileDevice struct {
	Name string `yaml:"name"`
	Spec string `yaml:"spec"`
}

// FileIDRule is one id rule as written.
type FileIDRule struct {
	Device  string `yaml:"device,omitempty"`
	Pattern string `yaml:"pattern"`
	IDType  string `yaml:"idtype"`
}

// FileUI is the ui section as written.
type FileUI struct {
	Mode     string         `yaml:"mode,omitempty"`
	Language string         `yaml:"language,omitempty"`
	PINHash  string         `yaml:"pin_hash,omitempty"`
	Menu     []FileMenuItem `yaml:"menu,omitempty"`
}

// FileMenuItem is one menu item as written (price in yuan).
type FileMenuItem struct {
	Name  string `yaml:"name"`
	Price string `yaml:"price"`
}

// FileStatus is the status section as written.
type FileStatus struct {
	Listen string `yaml:"listen,omitempty"`
}

// Marshal writes f as YAML that Load reads.
func Marshal(f File) ([]byte, error) { return MarshalYAML(f) }

// MarshalYAML writes v with the two-space indentation of the example
// configuration (configs/kiosk.example.yaml).
func MarshalYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
