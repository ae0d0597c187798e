package config

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/campuspos/kiosk/agent/money"
)

// UI languages (ui.language).
const (
	LangChinese     = "zh"
	LangEnglish     = "en"
	DefaultLanguage = LangChinese
)

// UI defaults and limits.
const (
	// DefaultIdleTimeout is how long a screen waits for the next touch
	// before going back to idle.
	DefaultIdleTimeout = 30 * time.Second
	// MinIdleTimeout leaves a student time to read a result; shorter, the
	// receipt would vanish before anyone saw it.
	MinIdleTimeout = 5 * time.Second
	// MaxIdleTimeout bounds how long a walked-away customer's card and
	// balance stay on screen for the next person to read.
	MaxIdleTimeout = 10 * time.Minute
	// MaxMenuItems is as many fixed-price buttons as fit one screen at a
	// size a finger can hit.
	MaxMenuItems = 24
	// MaxMenuNameLen bounds a menu item's name, in characters, so that it
	// fits its button.
	MaxMenuNameLen = 16
	// PINHashPrefix starts ui.pin_hash; the algorithm is named so that a
	// stronger one can be added without guessing what a bare hex string is.
	PINHashPrefix = "sha256:"
)

// UI configures the kiosk's screens (the ui section).
type UI struct {
	// Mode is the screen the kiosk starts in: ModeKiosk (self-service) or
	// ModeCanteen (cashier). Default: Terminal.Mode.
	Mode string
	// Language is LangChinese or LangEnglish; the screen has a toggle too.
	Language string
	// IdleTimeout sends every screen back to idle after this long without
	// a touch or a scan.
	IdleTimeout time.Duration
	// PINHash guards the diagnostics screen: PINHashPrefix followed by the
	// lower-case hex SHA-256 of the PIN (see HashPIN). Empty: no PIN, and
	// the kiosk warns.
	PINHash string
	// Font is a TTF/OTF/TTC font with CJK glyphs, or "" to look for a
	// system one.
	Font string
	// Menu is the fixed-price items, in file order.
	Menu []MenuItem
	// SoundCommand, when set, is run for each result with a short WAV
	// tone on its standard input (e.g. ["aplay", "-q"]): a cashier hears
	// a payment go through without looking up from the queue.
	SoundCommand []string
}

// MenuItem is one fixed-price item (ui.menu[]).
type MenuItem struct {
	Name  string
	Price money.Fen
}

type rawUI struct {
	Mode        string        `yaml:"mode"`
	Language    string        `yaml:"language"`
	IdleTimeout string        `yaml:"idle_timeout"`
	PINHash     string        `yaml:"pin_hash"`
	Font        string        `yaml:"font"`
	Menu        []rawMenuItem `yaml:"menu"`
	Sound       string        `yaml:"sound_command"`
}

type rawMenuItem struct {
	Name  string `yaml:"name"`
	Price string `yaml:"price"`
}

// HashPIN returns the ui.pin_hash value for pin. The hash is unsalted on
// purpose: it only keeps the PIN from being read off the file at a glance.
// Whoever can read the file can read platform.app_secret, which is worth
// far more than the diagnostics screen.
func HashPIN(pin string) string {
	sum := sha256.Sum256([]byte(pin))
	return PINHashPrefix + hex.EncodeToString(sum[:])
}

// SafePINLen is the shortest PIN the kiosk does not warn about: with the
// lockout (five tries, then a minute doubling to an hour) six digits keep a
// guesser at the screen busy for years; four take days.
const SafePINLen = 6

// ShortPIN reports whether hash is the hash of a PIN of fewer than
// SafePINLen digits, and its length, found by trying every such PIN
// (about 110,000 hashes, a few tens of milliseconds): the file keeps only
// the hash.
func ShortPIN(hash string) (length int, short bool) {
	if hash == "" {
		return 0, false
	}
	limit := 1
	for n := 1; n < SafePINLen; n++ {
		limit *= 10
		for i := range limit {
			if PINMatches(hash, fmt.Sprintf("%0*d", n, i)) {
				return n, true
			}
		}
	}
	return 0, false
}

// PINMatches reports whether pin is the PIN of hash (a checked
// ui.pin_hash). An empty hash matches nothing: "no PIN" is the caller's
// decision, not a PIN that anything unlocks. The comparison takes the same
// time whatever the input, so that timing tells nothing.
func PINMatches(hash, pin string) bool {
	if hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashPIN(pin)), []byte(hash)) == 1
}

func checkUI(p *problems, out *UI, raw *rawUI, terminalMode, dir string, warnings *[]string) {
	switch raw.Mode {
	case "":
		out.Mode = terminalMode
	case ModeKiosk, ModeCanteen:
		out.Mode = raw.Mode
	case "diagnostics":
		p.addf("ui.mode", "%q is reached from the screen with the PIN, not started in; want %s or %s", raw.Mode, ModeKiosk, ModeCanteen)
	default:
		p.addf("ui.mode", "%q is not one of %s, %s", raw.Mode, ModeKiosk, ModeCanteen)
	}

	switch raw.Language {
	case "":
		out.Language = DefaultLanguage
	case LangChinese, LangEnglish:
		out.Language = raw.Language
	default:
		p.addf("ui.language", "%q is not one of %s, %s", raw.Language, LangChinese, LangEnglish)
	}

	if checkDuration(p, "ui.idle_timeout", raw.IdleTimeout, DefaultIdleTimeout, &out.IdleTimeout) &&
		(out.IdleTimeout < MinIdleTimeout || out.IdleTimeout > MaxIdleTimeout) {
		p.addf("ui.idle_timeout", "%s is out of range, want %s to %s", out.IdleTimeout, MinIdleTimeout, MaxIdleTimeout)
	}

	if raw.PINHash != "" {
		if h, err := checkPINHash(raw.PINHash); err != nil {
			p.add("ui.pin_hash", err)
		} else {
			out.PINHash = h
		}
	}

	if raw.Font != "" {
		out.Font = resolve(dir, raw.Font)
		// Checked here rather than when the theme loads it: a font that
		// is missing would otherwise show up as boxes instead of Chinese
		// text, long after start-up.
		if fi, err := os.Stat(out.Font); err != nil {
			p.add("ui.font", err)
		} else if !fi.Mode().IsRegular() {
			p.addf("ui.font", "%s is not a regular file", out.Font)
		}
	}

	if raw.Sound != "" {
		out.SoundCommand = strings.Fields(raw.Sound)
		if len(out.SoundCommand) == 0 {
			p.addf("ui.sound_command", "holds only spaces")
		} else if _, err := exec.LookPath(out.SoundCommand[0]); err != nil {
			// A warning, not an error: the kiosk takes payments silently
			// rather than not at all.
			*warnings = append(*warnings, fmt.Sprintf("ui.sound_command: %v; results will be silent", err))
		}
	}

	if len(raw.Menu) > MaxMenuItems {
		p.addf("ui.menu", "%d items, at most %d fit the screen", len(raw.Menu), MaxMenuItems)
	}
	names := map[string]bool{}
	for i, m := range raw.Menu {
		field := fmt.Sprintf("ui.menu[%d]", i)
		name := strings.TrimSpace(m.Name)
		switch {
		case name == "":
			p.add(field+".name", ErrRequired)
		case utf8.RuneCountInString(name) > MaxMenuNameLen:
			p.addf(field+".name", "%q is %d characters long, at most %d fit a button", name, utf8.RuneCountInString(name), MaxMenuNameLen)
		case strings.ContainsFunc(name, unicode.IsControl):
			p.addf(field+".name", "%q holds a control character", name)
		case names[name]:
			p.addf(field+".name", "%q is used by another item", name)
		}
		names[name] = true
		var price money.Fen
		if m.Price == "" {
			p.add(field+".price", ErrRequired)
		} else {
			checkYuan(p, field+".price", m.Price, 0, &price)
		}
		out.Menu = append(out.Menu, MenuItem{Name: name, Price: price})
	}
}

// checkPINHash accepts PINHashPrefix and 64 hex digits, in either case,
// and returns it in lower case, the form HashPIN writes. It never quotes
// the value: a mistyped hash is still most of the real one.
func checkPINHash(s string) (string, error) {
	hexPart, ok := strings.CutPrefix(s, PINHashPrefix)
	if !ok {
		return "", fmt.Errorf("want %s followed by 64 hex digits (kiosk --hash-pin prints it)", PINHashPrefix)
	}
	b, err := hex.DecodeString(hexPart)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("want %s followed by 64 hex digits (kiosk --hash-pin prints it)", PINHashPrefix)
	}
	return PINHashPrefix + hex.EncodeToString(b), nil
}
