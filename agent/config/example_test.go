package config

import (
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const examplePath = "../../configs/kiosk.example.yaml"

// TestExampleConfig keeps configs/kiosk.example.yaml loadable: its structure,
// keys and values must all be valid, so the only problems allowed are the key
// files it names not existing on this machine.
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	require.NoError(t, err)

	cfg, err := Parse(data, t.TempDir())
	for _, e := range Errors(err) {
		assert.Contains(t, []string{"platform.private_key", "platform.public_key", "platform.ca_file"}, e.Field,
			"unexpected problem in the example: %v", e)
		assert.ErrorIs(t, e, fs.ErrNotExist, "unexpected problem in the example: %v", e)
	}
	if err == nil {
		// Only on a machine that has the example's key files installed.
		assert.Equal(t, "17", cfg.Terminal.TermID)
	}
}

// TestExampleConfigDocumentsEveryKey fails when a key is added to the file
// format without being shown, at least in a comment, in the example.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	require.NoError(t, err)
	text := string(data)

	sections := reflect.TypeFor[rawConfig]()
	for i := range sections.NumField() {
		sec := sections.Field(i)
		assert.True(t, shows(text, "", yamlName(sec)), "configs/kiosk.example.yaml has no section %s", yamlName(sec))
		typ, indent := sec.Type, "  "
		if typ.Kind() == reflect.Slice {
			// A list's keys: "  - name:" or "    spec:", commented or not.
			typ, indent = typ.Elem(), `#?\s*(- )?`
		}
		for j := range typ.NumField() {
			field := typ.Field(j)
			key := yamlName(field)
			assert.True(t, shows(text, indent, key), "configs/kiosk.example.yaml does not show %s.%s", yamlName(sec), key)
			if field.Type.Kind() == reflect.Slice && field.Type.Elem().Kind() == reflect.Struct {
				// A list inside a section (ui.menu): its items' keys, one
				// level deeper.
				item := field.Type.Elem()
				for k := range item.NumField() {
					sub := yamlName(item.Field(k))
					assert.True(t, shows(text, `    #?\s*(- )?`, sub), "configs/kiosk.example.yaml does not show %s.%s[].%s", yamlName(sec), key, sub)
				}
			}
		}
	}
}

// shows reports whether text has the key at the indent, set or commented out.
func shows(text, indent, key string) bool {
	re := regexp.MustCompile(`(?m)^` + indent + `(# ?)?` + regexp.QuoteMeta(key) + `:`)
	// indent is a regexp fragment: plain spaces, or a list item's prefix.
	return re.MatchString(text)
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}
