package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDevicesAndIDRules(t *testing.T) {
	f := newFixture(t)
	base := f.yaml(t)
	good := `devices:
  - name: card-reader
    spec: "serial:/dev/ttyUSB0?frame=crlf&kind=card"
  - name: qr
    spec: "hid-pos:0c2e:0b61"
    idtype: barcode
id_rules:
  - device: qr
    pattern: "20[0-9]{8}"
    idtype: sno
`
	cfg, err := Parse(append(append([]byte{}, base...), good...), f.dir)
	require.NoError(t, err)
	require.Len(t, cfg.Devices, 2)
	d, ok := cfg.DeviceNamed("qr")
	require.True(t, ok)
	assert.Equal(t, "barcode", d.IDType)
	require.Len(t, cfg.IDRules, 1)
	assert.True(t, cfg.IDRules[0].Pattern.MatchString("2024000001"))
	assert.False(t, cfg.IDRules[0].Pattern.MatchString("x2024000001"), "the pattern matches the whole text")

	bad := []struct {
		name, yaml, field string
	}{
		{"name missing", "devices:\n  - spec: \"keyboard:\"\n", "devices[0].name"},
		{"name repeated", "devices:\n  - {name: a, spec: \"keyboard:\"}\n  - {name: a, spec: \"keyboard:\"}\n", "devices[1].name"},
		{"spec missing", "devices:\n  - name: a\n", "devices[0].spec"},
		{"unknown idtype", "devices:\n  - {name: a, spec: \"keyboard:\", idtype: email}\n", "devices[0].idtype"},
		{"bad pattern", "id_rules:\n  - {pattern: \"(\", idtype: sno}\n", "id_rules[0].pattern"},
		{"rule for an unknown device", "id_rules:\n  - {device: nope, pattern: \"1\", idtype: sno}\n", "id_rules[0].device"},
		{"rule without idtype", "id_rules:\n  - {pattern: \"1\"}\n", "id_rules[0].idtype"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(append(append([]byte{}, base...), tt.yaml...), f.dir)
			require.Error(t, err)
			var fields []string
			for _, e := range Errors(err) {
				fields = append(fields, e.Field)
			}
			assert.Contains(t, fields, tt.field)
		})
	}
}
