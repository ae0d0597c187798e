package config

import (
	"fmt"
	"regexp"
	"slices"
)

// Device is one configured scanner or card reader (devices[]). Spec is the
// device package's SPEC text (serial:…, hid-pos:…, replay:…, keyboard:);
// the program that opens the devices checks it, naming devices[i].spec.
type Device struct {
	Name string
	Spec string
	// IDType, when set, is the query idtype for every scan of this device,
	// overriding the default by kind (card readers cardid, QR codes
	// barcode).
	IDType string
}

// IDRule maps scans whose text matches Pattern (the whole text) to IDType,
// for one device (Device) or all (""). Rules are tried in file order
// before the device's IDType and the default by kind.
type IDRule struct {
	Device  string
	Pattern *regexp.Regexp
	IDType  string
}

type rawDevice struct {
	Name   string `yaml:"name"`
	Spec   string `yaml:"spec"`
	IDType string `yaml:"idtype"`
}

type rawIDRule struct {
	Device  string `yaml:"device"`
	Pattern string `yaml:"pattern"`
	IDType  string `yaml:"idtype"`
}

// idTypes are the identity types query.card takes.
func idTypes() []string { return []string{"sno", "id", "phone", "acc", "cardid", "barcode"} }

var deviceNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

func checkDevices(p *problems, cfg *Config, devs []rawDevice, rules []rawIDRule) {
	names := map[string]bool{}
	for i, d := range devs {
		field := fmt.Sprintf("devices[%d]", i)
		switch {
		case !deviceNameRE.MatchString(d.Name):
			p.addf(field+".name", "%q: want 1–32 of a-z 0-9 _ -, starting with a letter or digit", d.Name)
		case names[d.Name]:
			p.addf(field+".name", "%q is used by another device", d.Name)
		}
		names[d.Name] = true
		if d.Spec == "" {
			p.add(field+".spec", ErrRequired)
		}
		if d.IDType != "" && !slices.Contains(idTypes(), d.IDType) {
			p.addf(field+".idtype", "%q: want one of %v", d.IDType, idTypes())
		}
		cfg.Devices = append(cfg.Devices, Device{Name: d.Name, Spec: d.Spec, IDType: d.IDType})
	}
	for i, r := range rules {
		field := fmt.Sprintf("id_rules[%d]", i)
		re, err := regexp.Compile("^(?:" + r.Pattern + ")$")
		switch {
		case r.Pattern == "":
			p.add(field+".pattern", ErrRequired)
		case err != nil:
			p.addf(field+".pattern", "not a regular expression: %v", err)
		}
		if !slices.Contains(idTypes(), r.IDType) {
			p.addf(field+".idtype", "%q: want one of %v", r.IDType, idTypes())
		}
		if r.Device != "" && !names[r.Device] {
			p.addf(field+".device", "%q is not a configured device", r.Device)
		}
		cfg.IDRules = append(cfg.IDRules, IDRule{Device: r.Device, Pattern: re, IDType: r.IDType})
	}
}

// DeviceNamed returns the configured device called name.
func (c *Config) DeviceNamed(name string) (Device, bool) {
	for _, d := range c.Devices {
		if d.Name == name {
			return d, true
		}
	}
	return Device{}, false
}
