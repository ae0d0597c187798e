package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
)

// Names of the demo files inside the demo directory.
const (
	demoClientKey     = "client-private.pem"
	demoClientPub     = "client-public.pem"
	demoPlatformKey   = "platform-private.pem"
	demoPlatformPub   = "platform-public.pem"
	demoSecret        = "app-secret.txt"
	demoSimYAML       = "sim.yaml"
	demoKioskYAML     = "kiosk.yaml"
	demoStore         = "kiosk.db"
	demoAppKey        = "campus-kiosk-demo"
	demoKeyBits       = 2048
	demoTermID        = "17"
	demoMercAcc       = "100000"
	demoKioskTimeout  = "5s"
	demoTokenTTL      = "2h"
	demoTokenInterval = "2m"
)

// demoDir is a prepared demo directory; paths are absolute.
type demoDir struct {
	dir, simYAML, kioskYAML string
}

func (d *demoDir) path(name string) string { return filepath.Join(d.dir, name) }

// prepareDemo creates what is missing in dir (keys, secret, sim.yaml) and
// reuses what is there, so that a kiosk configured on an earlier run keeps
// working.
func prepareDemo(dir string, logger *log.Logger) (*demoDir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, usagef("--demo: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, usagef("--demo: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, usagef("--demo: %w", err)
	}
	if !fi.IsDir() {
		return nil, usagef("--demo: %s is not a directory", abs)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		logger.Printf("warning: %s holds private keys and is accessible to other users (mode %04o); chmod 700 it", abs, fi.Mode().Perm())
	}
	d := &demoDir{dir: abs, simYAML: filepath.Join(abs, demoSimYAML), kioskYAML: filepath.Join(abs, demoKioskYAML)}
	var created []string
	for _, kp := range [][2]string{{demoClientKey, demoClientPub}, {demoPlatformKey, demoPlatformPub}} {
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
		logger.Printf("demo: generated %s in %s (demo keys: never commit or deploy them)", strings.Join(created, ", "), abs)
	} else {
		logger.Printf("demo: reusing the keys and settings in %s", abs)
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

// writeReplace replaces path atomically with a 0600 file.
func writeReplace(path string, data []byte) error {
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

func (d *demoDir) ensureKeyPair(privName, pubName string, created *[]string) error {
	privPath := d.path(privName)
	have, err := exists(privPath)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var key *rsa.PrivateKey
	if have {
		data, err := readSmallFile(privPath)
		if err == nil {
			key, err = onecard.ParsePrivateKeyPEM(data)
		}
		if err != nil {
			return usagef("demo: %s: %w (delete it to generate a new one)", privPath, err)
		}
	} else {
		if key, err = rsa.GenerateKey(rand.Reader, demoKeyBits); err != nil {
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
	pubPath := d.path(pubName)
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

func (d *demoDir) ensureSecret(created *[]string) error {
	path := d.path(demoSecret)
	have, err := exists(path)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if have {
		data, err := readSmallFile(path)
		if err == nil {
			_, err = onecard.NewCipher(strings.TrimSpace(string(data)))
		}
		if err != nil {
			return usagef("demo: %s: %w (delete it to generate a new one)", path, err)
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
	*created = append(*created, demoSecret)
	return nil
}

const simYAMLHeader = `# onecard-sim settings, generated by onecard-sim --demo on its first run.
# Later --demo runs reuse this file as it is: edit the cards or the token
# timing here. Relative paths are resolved against this file's directory;
# balance_fen is in fen. Flags given on the command line override it.
`

func (d *demoDir) ensureSimYAML(created *[]string) error {
	have, err := exists(d.simYAML)
	if err != nil || have {
		return err
	}
	st := settings{
		AppKey:             demoAppKey,
		AppSecretFile:      demoSecret,
		ClientPublicKey:    demoClientPub,
		PlatformPrivateKey: demoPlatformKey,
		Timezone:           defaultTimezone,
		TokenTTL:           demoTokenTTL,
		TokenMinInterval:   demoTokenInterval,
		Cards:              onecardtest.DemoCards(),
	}
	body, err := marshalYAML(st)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := writeNew(d.simYAML, append([]byte(simYAMLHeader), body...)); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	*created = append(*created, demoSimYAML)
	return nil
}

// kioskFile is the part of agent/config's file format the demo writes.
type kioskFile struct {
	Platform struct {
		URL        string `yaml:"url"`
		AppKey     string `yaml:"app_key"`
		AppSecret  string `yaml:"app_secret"`
		PrivateKey string `yaml:"private_key"`
		PublicKey  string `yaml:"public_key"`
		Timezone   string `yaml:"timezone"`
		Timeout    string `yaml:"timeout"`
	} `yaml:"platform"`
	Terminal struct {
		TermID  string `yaml:"termid"`
		MercAcc string `yaml:"mercacc"`
		AccType string `yaml:"acctype"`
	} `yaml:"terminal"`
	Store struct {
		Path string `yaml:"path"`
	} `yaml:"store"`
}

const kioskYAMLHeader = `# Kiosk configuration for the onecard-sim demo (agent/config format).
# onecard-sim --demo rewrites it on every run so that platform.url follows
# the simulator's address: copy it elsewhere before editing. It holds
# platform.app_secret: keep it readable by its owner only.
`

// writeKioskYAML writes the kiosk's configuration for the simulator at url.
func (d *demoDir) writeKioskYAML(url, appKey, appSecret, timezone string) error {
	var k kioskFile
	k.Platform.URL = url
	k.Platform.AppKey = appKey
	k.Platform.AppSecret = appSecret
	k.Platform.PrivateKey = d.path(demoClientKey)
	k.Platform.PublicKey = d.path(demoPlatformPub)
	k.Platform.Timezone = timezone
	k.Platform.Timeout = demoKioskTimeout
	k.Terminal.TermID = demoTermID
	k.Terminal.MercAcc = demoMercAcc
	k.Terminal.AccType = onecard.AccTypeCard
	k.Store.Path = d.path(demoStore)
	body, err := marshalYAML(k)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := writeReplace(d.kioskYAML, append([]byte(kioskYAMLHeader), body...)); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// marshalYAML writes v with the two-space indentation of the example
// configuration.
func marshalYAML(v any) ([]byte, error) {
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
