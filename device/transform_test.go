package device

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rules(t *testing.T, spec string) idRules {
	t.Helper()
	s, err := ParseSpec("r", "serial:/dev/x?"+spec)
	require.NoError(t, err)
	return s.id
}

func TestTransforms(t *testing.T) {
	tests := []struct {
		name, spec, in, want, err string
	}{
		// A MIFARE reader sends the UID bytes in the order they come off
		// the air, least significant first, in hex: 8A 3B 2C 1D. The card
		// is printed with the 32-bit number 0x1D2C3B8A in ten decimal
		// digits.
		{"UID reversed to the printed number", "reverse_bytes=1&hex2dec=1&pad=10", "8A3B2C1D", "0489438090", ""},
		{"the same with a prefix and CR noise stripped", "strip_prefix=UID:&reverse_bytes=1&hex2dec=1&pad=10&match=[0-9]{10}", "UID:8a3b2c1d", "0489438090", ""},
		// A reader that sends the UID as a decimal number of the wrong
		// byte order: back to hex (whole bytes, padded to the UID's 4),
		// reversed, and to decimal again.
		{"decimal UID reversed", "dec2hex=1&pad=8&reverse_bytes=1&hex2dec=1", "489438090", "2319133725", ""},
		{"leading zero byte kept by pad", "dec2hex=1&pad=8&reverse_bytes=1", "11189196", "CCBBAA00", ""},
		{"hex2dec beyond 64 bits", "hex2dec=1", "FFFFFFFFFFFFFFFFFF", "4722366482869645213695", ""},
		{"dec2hex whole bytes", "dec2hex=1", "255", "FF", ""},
		{"dec2hex odd digits padded", "dec2hex=1", "4095", "0FFF", ""},
		{"strip suffix", "strip_suffix=%3B", "1234;", "1234", ""},
		{"absent prefix is left alone", "strip_prefix=ID", "1234", "1234", ""},
		{"pad never truncates", "pad=2", "1234", "1234", ""},
		{"not hex", "hex2dec=1", "12G4", "", `hex2dec: "12G4" is not hexadecimal`},
		{"signs are not hex", "hex2dec=1", "-12", "", `hex2dec: "-12" is not hexadecimal`},
		{"not decimal", "dec2hex=1", "12a", "", `dec2hex: "12a" is not decimal`},
		{"odd hex for reverse", "reverse_bytes=1", "ABC", "", `reverse_bytes: "ABC" is not whole hexadecimal bytes`},
		{"match is whole", "match=[0-9]{4}", "12345", "", `"12345" does not match ^(?:[0-9]{4})$`},
		{"empty after strip", "strip_prefix=1234", "1234", "", "empty after transforms"},
		{"off is nothing", "hex2dec=0", "ABC", "ABC", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rules(t, tt.spec).apply(tt.in)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
