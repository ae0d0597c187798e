package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseValid(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)

	assert.Equal(t, "", cfg.File)
	assert.Equal(t, "http://127.0.0.1:8090/tsm", cfg.Platform.URL)
	assert.Equal(t, "http://127.0.0.1:8090/onecard/uap/downbill.do", cfg.Platform.BillURL)
	assert.Equal(t, "kiosk-app", cfg.Platform.AppKey)
	assert.Equal(t, testSecret, cfg.Platform.Secrets.AppSecret())
	assert.Equal(t, []byte("TESTSECRET-0123456789abc"), cfg.Platform.Secrets.DESKey())
	require.NotNil(t, cfg.Platform.Secrets.PrivateKey())
	assert.True(t, cfg.Platform.Secrets.PrivateKey().Equal(testKey()))
	assert.Equal(t, filepath.Join(f.dir, "client.pem"), cfg.Platform.PrivateKeyFile)
	assert.Equal(t, filepath.Join(f.dir, "platform.pem"), cfg.Platform.PublicKeyFile)
	require.NotNil(t, cfg.Platform.PublicKey)
	assert.True(t, cfg.Platform.PublicKey.Equal(&testKey().PublicKey))
	assert.Equal(t, DefaultTimezone, cfg.Platform.Timezone)
	require.NotNil(t, cfg.Platform.Location)
	assert.Equal(t, "Asia/Shanghai", cfg.Platform.Location.String())
	assert.Equal(t, 10*time.Second, cfg.Platform.Timeout)
	assert.Nil(t, cfg.Platform.RootCAs)
	assert.Equal(t, "17", cfg.Terminal.TermID)
	assert.Equal(t, "100000", cfg.Terminal.MercAcc)
	assert.Equal(t, "###", cfg.Terminal.AccType)
	assert.Equal(t, filepath.Join(f.dir, "kiosk.db"), cfg.Store.Path)
	assert.Empty(t, cfg.Warnings)
}

func TestParseTimezoneIsIndependentOfTZ(t *testing.T) {
	t.Setenv("TZ", "UTC")
	t.Setenv("ZONEINFO", filepath.Join(t.TempDir(), "no-zoneinfo-here"))
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)
	noon := time.Date(2024, 3, 1, 4, 0, 0, 0, time.UTC).In(cfg.Platform.Location)
	assert.Equal(t, "2024-03-01 12:00:00", noon.Format(time.DateTime))
}

func TestParseAccepted(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(s map[string]map[string]any)
		check func(t *testing.T, cfg *Config)
	}{
		{
			name: "termid as YAML number",
			edit: func(s map[string]map[string]any) { s["terminal"]["termid"] = 17 },
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "17", cfg.Terminal.TermID)
			},
		},
		{
			name: "termid with leading zeros is sent canonical",
			edit: func(s map[string]map[string]any) { s["terminal"]["termid"] = "0017" },
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "17", cfg.Terminal.TermID)
			},
		},
		{
			name:  "termid 1",
			edit:  func(s map[string]map[string]any) { s["terminal"]["termid"] = 1 },
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, "1", cfg.Terminal.TermID) },
		},
		{
			name:  "termid 9999",
			edit:  func(s map[string]map[string]any) { s["terminal"]["termid"] = "9999" },
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, "9999", cfg.Terminal.TermID) },
		},
		{
			name: "mercacc as YAML number",
			edit: func(s map[string]map[string]any) { s["terminal"]["mercacc"] = 1000000 },
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "1000000", cfg.Terminal.MercAcc)
			},
		},
		{
			name: "bill_url derived from the origin of url",
			edit: func(s map[string]map[string]any) { s["platform"]["url"] = "http://127.0.0.1:8080/tsm" },
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "http://127.0.0.1:8080/onecard/uap/downbill.do", cfg.Platform.BillURL)
			},
		},
		{
			name: "bill_url derived drops path and query",
			edit: func(s map[string]map[string]any) {
				s["platform"]["url"] = "https://ecard.example.edu/easytong/tsm?x=1"
			},
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "https://ecard.example.edu/onecard/uap/downbill.do", cfg.Platform.BillURL)
			},
		},
		{
			name: "bill_url explicit",
			edit: func(s map[string]map[string]any) {
				s["platform"]["bill_url"] = "https://bills.example.edu/onecard/uap/downbill.do"
			},
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "https://bills.example.edu/onecard/uap/downbill.do", cfg.Platform.BillURL)
			},
		},
		{
			name: "private key PKCS#1",
			edit: func(s map[string]map[string]any) { s["platform"]["private_key"] = "client-pkcs1.pem" },
			check: func(t *testing.T, cfg *Config) {
				assert.True(t, cfg.Platform.Secrets.PrivateKey().Equal(testKey()))
			},
		},
		{
			name: "private key absolute path",
			edit: func(s map[string]map[string]any) {
				s["platform"]["private_key"] = filepath.Join(s["store"]["dir"].(string), "client.pem")
			},
			check: func(t *testing.T, cfg *Config) {
				assert.NotNil(t, cfg.Platform.Secrets.PrivateKey())
			},
		},
		{
			name: "public key PKCS#1",
			edit: func(s map[string]map[string]any) { s["platform"]["public_key"] = "platform-pkcs1.pem" },
			check: func(t *testing.T, cfg *Config) {
				assert.True(t, cfg.Platform.PublicKey.Equal(&testKey().PublicKey))
			},
		},
		{
			name: "public key from certificate",
			edit: func(s map[string]map[string]any) { s["platform"]["public_key"] = "ca.pem" },
			check: func(t *testing.T, cfg *Config) {
				assert.True(t, cfg.Platform.PublicKey.Equal(&testKey().PublicKey))
			},
		},
		{
			name: "no public key turns verification off",
			edit: func(s map[string]map[string]any) { delete(s["platform"], "public_key") },
			check: func(t *testing.T, cfg *Config) {
				assert.Nil(t, cfg.Platform.PublicKey)
				assert.Equal(t, "", cfg.Platform.PublicKeyFile)
			},
		},
		{
			name: "ca_file with https",
			edit: func(s map[string]map[string]any) {
				s["platform"]["url"] = "https://ecard.example.edu/tsm"
				s["platform"]["ca_file"] = "ca.pem"
			},
			check: func(t *testing.T, cfg *Config) {
				assert.NotNil(t, cfg.Platform.RootCAs)
				assert.Empty(t, cfg.Warnings)
			},
		},
		{
			name: "ca_file with http warns",
			edit: func(s map[string]map[string]any) { s["platform"]["ca_file"] = "ca.pem" },
			check: func(t *testing.T, cfg *Config) {
				assert.NotNil(t, cfg.Platform.RootCAs)
				require.Len(t, cfg.Warnings, 1)
				assert.Contains(t, cfg.Warnings[0], "platform.ca_file")
			},
		},
		{
			name: "timezone and timeout set",
			edit: func(s map[string]map[string]any) {
				s["platform"]["timezone"] = "Asia/Urumqi"
				s["platform"]["timeout"] = "1m30s"
			},
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "Asia/Urumqi", cfg.Platform.Location.String())
				assert.Equal(t, 90*time.Second, cfg.Platform.Timeout)
			},
		},
		{
			name:  "timeout at the 2m limit",
			edit:  func(s map[string]map[string]any) { s["platform"]["timeout"] = "2m" },
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, 2*time.Minute, cfg.Platform.Timeout) },
		},
		{
			name:  "acctype set",
			edit:  func(s map[string]map[string]any) { s["terminal"]["acctype"] = "001" },
			check: func(t *testing.T, cfg *Config) { assert.Equal(t, "001", cfg.Terminal.AccType) },
		},
		{
			name:  "app_key of 128 bytes",
			edit:  func(s map[string]map[string]any) { s["platform"]["app_key"] = strings.Repeat("k", 128) },
			check: func(t *testing.T, cfg *Config) { assert.Len(t, cfg.Platform.AppKey, 128) },
		},
		{
			name: "private key mode 0644 warns",
			edit: func(s map[string]map[string]any) {
				require.NoError(t, os.Chmod(filepath.Join(s["store"]["dir"].(string), "client.pem"), 0o644))
			},
			check: func(t *testing.T, cfg *Config) {
				require.Len(t, cfg.Warnings, 1)
				assert.Contains(t, cfg.Warnings[0], "platform.private_key")
				assert.Contains(t, cfg.Warnings[0], "0644")
				assert.NotNil(t, cfg.Platform.Secrets.PrivateKey(), "a warning does not fail the load")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			// The edit functions find the fixture directory here; it is
			// removed again before the YAML is written.
			f.settings["store"]["dir"] = f.dir
			tt.edit(f.settings)
			delete(f.settings["store"], "dir")
			cfg, err := Parse(f.yaml(t), f.dir)
			require.NoError(t, err)
			tt.check(t, cfg)
		})
	}
}

func TestParseRejected(t *testing.T) {
	runRejected(t, []rejected{
		{name: "missing platform.url", edit: del("platform", "url"), field: "platform.url", is: ErrRequired},
		{name: "missing platform.app_key", edit: del("platform", "app_key"), field: "platform.app_key", is: ErrRequired},
		{name: "missing platform.app_secret", edit: del("platform", "app_secret"), field: "platform.app_secret", is: ErrRequired},
		{name: "missing platform.private_key", edit: del("platform", "private_key"), field: "platform.private_key", is: ErrRequired},
		{name: "missing terminal.termid", edit: del("terminal", "termid"), field: "terminal.termid", is: ErrRequired},
		{name: "missing terminal.mercacc", edit: del("terminal", "mercacc"), field: "terminal.mercacc", is: ErrRequired},
		{name: "missing store.path", edit: del("store", "path"), field: "store.path", is: ErrRequired},
		{name: "empty app_key", edit: set("platform", "app_key", ""), field: "platform.app_key", is: ErrRequired},
		{name: "null app_secret", edit: set("platform", "app_secret", nil), field: "platform.app_secret", is: ErrRequired},

		{name: "unknown platform key", edit: set("platform", "app_secrt", "x"), field: "platform.app_secrt", is: ErrUnknownKey},
		{name: "insecure_skip_verify is not offered", edit: set("platform", "insecure_skip_verify", true), field: "platform.insecure_skip_verify", is: ErrUnknownKey},
		{name: "unknown terminal key", edit: set("terminal", "term_id", "17"), field: "terminal.term_id", is: ErrUnknownKey},
		{name: "unknown section", edit: func(s map[string]map[string]any) { s["plaform"] = map[string]any{"url": "x"} }, field: "plaform", is: ErrUnknownKey},

		{name: "url not http", edit: set("platform", "url", "ftp://127.0.0.1/tsm"), field: "platform.url", want: "http://"},
		{name: "url relative", edit: set("platform", "url", "/tsm"), field: "platform.url", want: "http://"},
		{name: "url without host", edit: set("platform", "url", "http:///tsm"), field: "platform.url", want: "no host"},
		{name: "url with credentials", edit: set("platform", "url", "http://u:pw@127.0.0.1/tsm"), field: "platform.url", want: "user name"},
		{name: "bill_url not http", edit: set("platform", "bill_url", "file:///tmp/bill"), field: "platform.bill_url", want: "http://"},
		{name: "app_key too long", edit: set("platform", "app_key", strings.Repeat("k", 129)), field: "platform.app_key", want: "129 bytes"},

		{name: "app_secret bad base64", edit: set("platform", "app_secret", "not*base64!"), field: "platform.app_secret", want: "not standard base64"},
		{name: "app_secret URL-safe base64", edit: set("platform", "app_secret", base64.URLEncoding.EncodeToString([]byte("\xfb\xff-0123456789abcdefghijk"))), field: "platform.app_secret", want: "not standard base64"},
		{name: "app_secret 16 bytes", edit: set("platform", "app_secret", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))), field: "platform.app_secret", want: "decodes to 16 bytes, want 24"},
		{name: "app_secret 32 bytes", edit: set("platform", "app_secret", base64.StdEncoding.EncodeToString(make([]byte, 32))), field: "platform.app_secret", want: "decodes to 32 bytes, want 24"},

		{name: "private key not PEM", edit: set("platform", "private_key", "garbage.pem"), field: "platform.private_key", want: "no PEM block"},
		{name: "private key is a public key", edit: set("platform", "private_key", "platform.pem"), field: "platform.private_key", want: `"PUBLIC KEY"`},
		{name: "private key is EC", edit: set("platform", "private_key", "ec.pem"), field: "platform.private_key", want: "want RSA"},
		{name: "private key file missing", edit: set("platform", "private_key", "nope.pem"), field: "platform.private_key", is: fs.ErrNotExist},
		{name: "private key is a directory", edit: set("platform", "private_key", "."), field: "platform.private_key", want: "not a regular file"},
		{name: "public key not PEM", edit: set("platform", "public_key", "garbage.pem"), field: "platform.public_key", want: "no PEM block"},
		{name: "public key is private", edit: set("platform", "public_key", "client.pem"), field: "platform.public_key", want: `"PRIVATE KEY"`},
		{name: "public key file missing", edit: set("platform", "public_key", "nope.pem"), field: "platform.public_key", is: fs.ErrNotExist},
		{name: "ca_file without certificates", edit: set("platform", "ca_file", "garbage.pem"), field: "platform.ca_file", want: "no PEM certificates"},

		{name: "timezone Mars/Base", edit: set("platform", "timezone", "Mars/Base"), field: "platform.timezone", want: "Mars/Base"},
		{name: "timezone Local", edit: set("platform", "timezone", "Local"), field: "platform.timezone", want: "Asia/Shanghai"},
		{name: "timeout banana", edit: set("platform", "timeout", "banana"), field: "platform.timeout", want: `"banana" is not a duration`},
		{name: "timeout without unit", edit: set("platform", "timeout", 10), field: "platform.timeout", want: "not a duration"},
		{name: "timeout zero", edit: set("platform", "timeout", "0s"), field: "platform.timeout", want: "out of range"},
		{name: "timeout negative", edit: set("platform", "timeout", "-1s"), field: "platform.timeout", want: "out of range"},
		{name: "timeout over 2m", edit: set("platform", "timeout", "2m1s"), field: "platform.timeout", want: "out of range"},

		{name: "termid 0", edit: set("terminal", "termid", 0), field: "terminal.termid", want: "out of range"},
		{name: "termid 10000", edit: set("terminal", "termid", 10000), field: "terminal.termid", want: "out of range"},
		{name: "termid abc", edit: set("terminal", "termid", "abc"), field: "terminal.termid", want: "not a whole number"},
		{name: "termid negative", edit: set("terminal", "termid", -5), field: "terminal.termid", want: "not a whole number"},
		{name: "termid float", edit: set("terminal", "termid", 17.5), field: "terminal.termid", want: "not a whole number"},
		{name: "termid huge", edit: set("terminal", "termid", "99999999999999999999999"), field: "terminal.termid", want: "out of range"},
		{name: "mercacc 11 bytes", edit: set("terminal", "mercacc", "12345678901"), field: "terminal.mercacc", want: "11 bytes"},
		{name: "acctype 4 bytes", edit: set("terminal", "acctype", "####"), field: "terminal.acctype", want: "4 bytes"},
		{name: "acctype multibyte over 3 bytes", edit: set("terminal", "acctype", "卡卡"), field: "terminal.acctype", want: "6 bytes"},

		{name: "section is a list", edit: func(s map[string]map[string]any) { s["store"] = nil }, field: "store.path", is: ErrRequired},
	})
}

// del and set build edits for the table tests.
func del(section, key string) func(map[string]map[string]any) {
	return func(s map[string]map[string]any) { delete(s[section], key) }
}

func set(section, key string, v any) func(map[string]map[string]any) {
	return func(s map[string]map[string]any) { s[section][key] = v }
}

func TestParseYAMLLevelErrors(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		field string
		line  int
		is    error
		want  string
	}{
		{name: "empty file", yaml: "", want: "no settings"},
		{name: "only comments", yaml: "# nothing\n", want: "no settings"},
		{name: "syntax error", yaml: "platform:\n  url: [\n", is: ErrSyntax, line: -1},
		{name: "syntax error line", yaml: "store: {path: a}\nc d\ne: f\n", is: ErrSyntax, line: 2},
		{name: "tab indentation", yaml: "platform:\n\turl: x\n", is: ErrSyntax},
		{name: "two documents", yaml: "store: {path: a}\n---\nstore: {path: b}\n", want: "more than one YAML document"},
		{name: "not a mapping", yaml: "hello\n", want: "wrong kind of value", line: 1},
		{name: "section is a scalar", yaml: "platform: c2VjcmV0c2VjcmV0c2VjcmV0\n", field: "platform", line: 1, want: "a single value"},
		{name: "value is a list", yaml: "store:\n  path:\n    - a\n    - b\n", field: "store.path", line: 3, want: "a list"},
		{name: "value is a mapping", yaml: "platform: {app_secret: {a: b}}\n", field: "platform.app_secret", line: 1, want: "a mapping"},
		{name: "duplicate key", yaml: "store:\n  path: a\n  path: b\n", field: "store.path", line: 3, want: "first at line 2"},
		{name: "unknown key line", yaml: "store:\n  path: a\n  paht: b\n", field: "store.paht", line: 3, is: ErrUnknownKey},
		{name: "unknown key in flow mapping", yaml: "store: {path: a, paht: b}\n", field: "store.paht", line: 1, is: ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), t.TempDir())
			require.Error(t, err)
			errs := Errors(err)
			require.Len(t, errs, 1, "got: %v", err)
			assert.Equal(t, tt.field, errs[0].Field)
			switch {
			case tt.line < 0:
				assert.Positive(t, errs[0].Line)
			case tt.line > 0:
				assert.Equal(t, tt.line, errs[0].Line)
			}
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			if tt.want != "" {
				assert.Contains(t, err.Error(), tt.want)
			}
			assert.NotContains(t, err.Error(), "c2Vj", "the YAML library quotes the start of values; that must not leak")
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	f := newFixture(t)
	delete(f.settings["platform"], "url")
	f.settings["platform"]["app_secret"] = base64.StdEncoding.EncodeToString(make([]byte, 16))
	f.settings["terminal"]["termid"] = 0
	delete(f.settings["store"], "path")

	_, err := Parse(f.yaml(t), f.dir)
	require.Error(t, err)
	assert.ElementsMatch(t, []string{"platform.url", "platform.app_secret", "terminal.termid", "store.path"}, problemFields(err))

	var first *Error
	require.ErrorAs(t, err, &first, "a CLI maps errors to exit status 2 with errors.As")
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "kiosk.yaml", Field: "platform.app_secret", Line: 4, Err: errors.New("decodes to 16 bytes, want 24")}, "kiosk.yaml:4: platform.app_secret: decodes to 16 bytes, want 24"},
		{&Error{File: "kiosk.yaml", Field: "store.path", Err: ErrRequired}, "kiosk.yaml: store.path: required"},
		{&Error{Field: "store.path", Line: 9, Err: ErrRequired}, "line 9: store.path: required"},
		{&Error{File: "kiosk.yaml", Err: errors.New("file holds no settings")}, "kiosk.yaml: file holds no settings"},
		{&Error{Field: "x"}, "x: invalid"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
	wrapped := fmt.Errorf("start: %w", &Error{Field: "store.path", Err: ErrRequired})
	assert.ErrorIs(t, wrapped, ErrRequired)
	assert.Len(t, Errors(wrapped), 1)
	assert.Nil(t, Errors(nil))
	assert.Nil(t, Errors(errors.New("other")))
}

func TestLoad(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "kiosk.yaml")
	require.NoError(t, os.WriteFile(path, f.yaml(t), 0o600))
	require.NoError(t, os.Chmod(path, 0o600))

	cfg, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, path, cfg.File)
	assert.Equal(t, filepath.Join(f.dir, "kiosk.db"), cfg.Store.Path)
	assert.NotNil(t, cfg.Platform.Secrets.PrivateKey())
	assert.Empty(t, cfg.Warnings)
}

func TestLoadRelativePathResolvesAgainstFileDir(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(f.dir, "kiosk.yaml"), f.yaml(t), 0o600))
	t.Chdir(filepath.Dir(f.dir))

	cfg, err := Load(filepath.Join(filepath.Base(f.dir), "kiosk.yaml"))
	require.NoError(t, err)
	assert.True(t, filepath.IsAbs(cfg.Store.Path), "paths are absolute so a later chdir cannot move them")
	assert.Equal(t, filepath.Join(f.dir, "kiosk.db"), cfg.Store.Path)
	assert.Equal(t, filepath.Join(f.dir, "client.pem"), cfg.Platform.PrivateKeyFile)
}

func TestLoadWarnsAboutReadableConfig(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "kiosk.yaml")
	require.NoError(t, os.WriteFile(path, f.yaml(t), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))

	cfg, err := Load(path)
	require.NoError(t, err)
	require.Len(t, cfg.Warnings, 1)
	assert.Contains(t, cfg.Warnings[0], "app_secret")
	assert.Contains(t, cfg.Warnings[0], "0644")
	assertNoSecret(t, cfg.Warnings[0])
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	f := newFixture(t)
	f.settings["platform"]["app_secret"] = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	path := filepath.Join(f.dir, "kiosk.yaml")
	require.NoError(t, os.WriteFile(path, f.yaml(t), 0o600))

	_, err := Load(path)
	require.Error(t, err)
	var ce *Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, path, ce.File)
	assert.Equal(t, "platform.app_secret", ce.Field)
	assert.Regexp(t, `^`+regexpQuote(path)+`:\d+: platform\.app_secret: decodes to 16 bytes, want 24$`, err.Error())
	assert.NotContains(t, err.Error(), "MDEyMzQ1")

	_, err = Load(filepath.Join(f.dir, "missing.yaml"))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, filepath.Join(f.dir, "missing.yaml"), ce.File)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	_, err = Load(f.dir)
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "not a regular file")
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestSecretsNeverPrinted(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)

	out := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)
	out += fmt.Sprintf("%v %+v %#v", *cfg, *cfg, *cfg)
	out += fmt.Sprintf("%v %+v %#v %s %q %x %d", cfg.Platform, cfg.Platform, cfg.Platform,
		cfg.Platform.Secrets, cfg.Platform.Secrets, cfg.Platform.Secrets, cfg.Platform.Secrets)
	out += fmt.Sprint(&cfg.Platform.Secrets) + cfg.Platform.Secrets.String() + cfg.Platform.Secrets.GoString()

	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "secrets", cfg.Platform.Secrets)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "platform", cfg.Platform)
	out += logged.String()

	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	out += string(js)

	assert.Contains(t, out, "[redacted]")
	assertNoSecret(t, out)
}

// assertNoSecret fails when s holds any rendering of the test secrets.
func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	key := testKey()
	for _, secret := range []string{
		testSecret,
		testSecret[:8],
		"TESTSECRET",
		fmt.Sprintf("%x", []byte("TESTSECRET")),
		key.D.String(),
		key.Primes[0].String(),
		fmt.Sprintf("%x", key.D.Bytes()[:8]),
		"PRIVATE KEY-----",
	} {
		assert.NotContains(t, s, secret)
	}
}

func TestDESKeyIsACopy(t *testing.T) {
	f := newFixture(t)
	cfg, err := Parse(f.yaml(t), f.dir)
	require.NoError(t, err)
	k := cfg.Platform.Secrets.DESKey()
	k[0] ^= 0xff
	assert.Equal(t, []byte("TESTSECRET-0123456789abc"), cfg.Platform.Secrets.DESKey())

	var zero Secrets
	assert.Nil(t, zero.DESKey())
	assert.Nil(t, zero.PrivateKey())
	assert.Equal(t, "", zero.AppSecret())
}

func TestParseSizeLimit(t *testing.T) {
	data := []byte("# " + strings.Repeat("x", maxFileSize) + "\n")
	_, err := Parse(data, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than")
}
