// Package demo prepares the demo directory shared by onecard-sim --demo
// and kiosk --demo: the demo keys and app secret generated on the first
// run, the simulator's settings (sim.yaml) and a kiosk configuration
// (kiosk.yaml) pointing at the simulator's actual address. Both programs
// use it so that a directory prepared by one works for the other.
//
// The demo keys are made on the machine that runs the demo; they must
// never be committed or deployed.
package demo

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/campuspos/kiosk/agent/config"
	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// Names of the files inside the demo directory.
const (
	ClientKey   = "client-private.pem"
	ClientPub   = "client-public.pem"
	PlatformKey = "platform-private.pem"
	PlatformPub = "platform-public.pem"
	Secret      = "app-secret.txt"
	SimYAML     = "sim.yaml"
	// StatusListen is the demo kiosk's status endpoint (curl
	// http://127.0.0.1:9108/status); kiosk --demo takes another free port
	// when this one is in use.
	StatusListen = "127.0.0.1:9108"
	KioskYAML    = "kiosk.yaml"
	Store        = "kiosk.db"
)

// The demo terminal and platform.
const (
	AppKey  = "campus-kiosk-demo"
	TermID  = "17"
	MercAcc = "100000"
	// PIN opens the demo kiosk's diagnostics screen. A demo value,
	// written in the README; a real kiosk gets its own (kiosk --hash-pin).
	PIN = "0000"
	// KeyboardDevice is the name of the kiosk window's keyboard input in
	// the demo configuration: a card number typed and Enter is a tap.
	KeyboardDevice = "keyboard"
	// QRPattern matches the payment codes typed on the keyboard, which
	// the demo looks up as barcode rather than cardid.
	QRPattern = "28[0-9]{16}"

	keyBits       = 2048
	kioskTimeout  = "5s"
	tokenTTL      = "2h"
	tokenInterval = "2m"
	// The reconciler retries quickly in the demo so that a newcomer who
	// plugs the network back sees the order settle within seconds, not
	// after a ten-minute back-off.
	reconcileInterval    = "2s"
	reconcileMaxInterval = "15s"
)

// Menu is the demo kiosk's menu: a few canteen items and one dearer than
// the offline limit (30.00), to show an offline refusal.
func Menu() []config.MenuItem {
	return []config.MenuItem{
		{Name: "套餐A", Price: 12_00},
		{Name: "套餐B", Price: 15_00},
		{Name: "豆浆", Price: 2_50},
		{Name: "火锅", Price: 45_00},
	}
}

// Error is a problem the user can fix (a flag, a setting, a file in the
// demo directory), as opposed to a failure of the machine such as a full
// disk. Programs map it to their usage exit status.
type Error struct{ Err error }

// Error returns the problem's text.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

func errorf(format string, args ...any) error {
	return &Error{fmt.Errorf(format, args...)}
}

// Dir is a prepared demo directory; its paths are absolute.
type Dir struct {
	// Dir is the directory itself.
	Dir string
	// SimYAML and KioskYAML are the simulator's settings and the kiosk's
	// configuration.
	SimYAML, KioskYAML string
}

// Path returns the path of a file in the directory.
func (d *Dir) Path(name string) string { return filepath.Join(d.Dir, name) }

// Prepare creates what is missing in dir (mode 0700: keys, secret,
// sim.yaml, all 0600) and reuses what is there, so that a kiosk configured
// on an earlier run keeps working. logf receives one line saying what was
// made or reused, and warnings.
func Prepare(dir string, logf func(format string, args ...any)) (*Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, errorf("--demo: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, errorf("--demo: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, errorf("--demo: %w", err)
	}
	if !fi.IsDir() {
		return nil, errorf("--demo: %s is not a directory", abs)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		logf("warning: %s holds private keys and is accessible to other users (mode %04o); chmod 700 it", abs, fi.Mode().Perm())
	}
	d := &Dir{Dir: abs, SimYAML: filepath.Join(abs, SimYAML), KioskYAML: filepath.Join(abs, KioskYAML)}
	var created []string
	for _, kp := range [][2]string{{ClientKey, ClientPub}, {PlatformKey, PlatformPub}} {
		if err := d.ensureKeyPair(kp[0], kp[1], &created); err != nil {
			return nil, err
		}
	}
	if err := d.ensureSecret(&created); err != nil {
		return nil, err
	}
	if err := d.ensureSimYAML(&created); err != nil {
		return nil, err
	}
	if len(created) > 0 {
		logf("demo: generated %s in %s (demo keys: never commit or deploy them)", strings.Join(created, ", "), abs)
	} else {
		logf("demo: reusing the keys and settings in %s", abs)
	}
	return d, nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// writeNew creates path with mode 0600, refusing to replace a file.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteReplace replaces path atomically with a 0600 file, so that a reader
// sees the old content or the new, never a part.
func WriteReplace(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (d *Dir) ensureKeyPair(privName, pubName string, created *[]string) error {
	privPath := d.Path(privName)
	have, err := exists(privPath)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var key *rsa.PrivateKey
	if have {
		data, err := ReadSmallFile(privPath)
		if err == nil {
			key, err = onecard.ParsePrivateKeyPEM(data)
		}
		if err != nil {
			return errorf("demo: %s: %w (delete it to generate a new one)", privPath, err)
		}
	} else {
		if key, err = rsa.GenerateKey(rand.Reader, keyBits); err != nil {
			return fmt.Errorf("demo: generating a key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := writeNew(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		*created = append(*created, privName)
	}
	pubPath := d.Path(pubName)
	if have, err := exists(pubPath); err != nil || have {
		// An existing public key is kept as it is; were it not the private
		// key's, the first call would say so (40004 or a bad signature).
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := writeNew(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	*created = append(*created, pubName)
	return nil
}

func (d *Dir) ensureSecret(created *[]string) error {
	path := d.Path(Secret)
	have, err := exists(path)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if have {
		data, err := ReadSmallFile(path)
		if err == nil {
			_, err = onecard.NewCipher(strings.TrimSpace(string(data)))
		}
		if err != nil {
			return errorf("demo: %s: %w (delete it to generate a new one)", path, err)
		}
		return nil
	}
	key := make([]byte, onecard.KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := writeNew(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	*created = append(*created, Secret)
	return nil
}

const simYAMLHeader = `# onecard-sim settings, generated by onecard-sim --demo or kiosk --demo on
# its first run. Later --demo runs reuse this file as it is: edit the cards
# or the token timing here. Relative paths are resolved against this file's
# directory; balance_fen is in fen. onecard-sim's flags override it.
# Field variations, off by default: refunds_uncapped: true,
# query_forgets_refunds: true, hold: {fraction: 0.25, for: 30s, seed: 0},
# duplicate_reply: 60070 or replay, wrong_password_retcode: a retcode for a
# wrong card password instead of 60003 (onecard-sim --help explains them).
`

func (d *Dir) ensureSimYAML(created *[]string) error {
	have, err := exists(d.SimYAML)
	if err != nil || have {
		return err
	}
	st := SimSettings{
		AppKey:             AppKey,
		AppSecretFile:      Secret,
		ClientPublicKey:    ClientPub,
		PlatformPrivateKey: PlatformKey,
		Timezone:           DefaultTimezone,
		TokenTTL:           tokenTTL,
		TokenMinInterval:   tokenInterval,
		Cards:              sim.DemoCards(),
	}
	body, err := config.MarshalYAML(st)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := writeNew(d.SimYAML, append([]byte(simYAMLHeader), body...)); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	*created = append(*created, SimYAML)
	return nil
}

const kioskYAMLHeader = `# Kiosk configuration for the demo (agent/config format; every key is
# explained in configs/kiosk.example.yaml). onecard-sim --demo and
# kiosk --demo rewrite it on every run so that platform.url follows the
# simulator's address: copy it elsewhere before editing. It holds
# platform.app_secret: keep it readable by its owner only.
#
# The keyboard device makes the kiosk window's keyboard a card reader: type
# a demo card number (README, "The kiosk") and press Enter. The
# diagnostics PIN is ` + PIN + `.
`

// WriteKioskYAML writes the kiosk's configuration for the simulator at url
// (its main API URL): termid 17, mercacc 100000, acctype ###, the store at
// DIR/kiosk.db, the window's keyboard as a card reader (payment codes
// matching QRPattern looked up as barcode), a self-service start screen
// with Menu and the diagnostics PIN.
func (d *Dir) WriteKioskYAML(url, appKey, appSecret, timezone string) error {
	k := config.File{
		Platform: config.FilePlatform{URL: url, AppKey: appKey, AppSecret: appSecret, PrivateKey: d.Path(ClientKey),
			PublicKey: d.Path(PlatformPub), Timezone: timezone, Timeout: kioskTimeout},
		Terminal:  config.FileTerminal{TermID: TermID, MercAcc: MercAcc, AccType: onecard.AccTypeCard},
		Store:     config.FileStore{Path: d.Path(Store)},
		Reconcile: &config.FileReconcile{Interval: reconcileInterval, MaxInterval: reconcileMaxInterval},
		// The demo settles yesterday as soon as it starts, so that a
		// newcomer sees a settled day in diagnostics; a campus settles at
		// night.
		Settlement: &config.FileSettlement{At: "00:00", Jitter: "0s"},
		Devices:    []config.FileDevice{{Name: KeyboardDevice, Spec: "keyboard:?kind=card"}},
		Status:     &config.FileStatus{Listen: StatusListen},
		// The campus app's payment codes are 18 digits starting 28; typed
		// in the window they are looked up as the QR code they stand for.
		IDRules: []config.FileIDRule{{Device: KeyboardDevice, Pattern: QRPattern, IDType: "barcode"}},
		// terminal.mode stays canteen, which keeps offline acceptance on,
		// so that pulling the network shows it; the screens are the
		// students'.
		UI: &config.FileUI{Mode: config.ModeKiosk, Language: config.LangEnglish, PINHash: config.HashPIN(PIN)},
	}
	for _, m := range Menu() {
		k.UI.Menu = append(k.UI.Menu, config.FileMenuItem{Name: m.Name, Price: m.Price.Yuan()})
	}
	body, err := config.Marshal(k)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := WriteReplace(d.KioskYAML, append([]byte(kioskYAMLHeader), body...)); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}
