package money

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseYuan(t *testing.T) {
	good := map[string]Fen{"0": 0, "0.01": 1, "1": 100, "10.5": 1050, "100.0": 10000, "12.34": 1234, "007.10": 710}
	for in, want := range good {
		got, err := ParseYuan(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0.001", "-1", "+1", "1e2", "1.", ".5", " 1", "1,000", "abc", "1.2.3", "0x10", "1000000000000"} {
		_, err := ParseYuan(in)
		assert.ErrorIs(t, err, ErrSyntax, in)
	}
}

func TestYuanFormatting(t *testing.T) {
	assert.Equal(t, "0.05", Fen(5).Yuan())
	assert.Equal(t, "12.34", Fen(1234).Yuan())
	assert.Equal(t, "-1.20", Fen(-120).Yuan())
	assert.Equal(t, "¥100.00", Fen(10000).String())
}

func TestParseFen(t *testing.T) {
	v, err := ParseFen("10000")
	require.NoError(t, err)
	assert.Equal(t, Fen(10000), v)
	v, err = ParseFen("-5")
	require.NoError(t, err)
	assert.Equal(t, Fen(-5), v)
	for _, in := range []string{"", "-", "1.5", "1e3", "9999999999999999"} {
		_, err := ParseFen(in)
		assert.Error(t, err, in)
	}
}

func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"0", "0.01", "12.34", "100.0", "0.001", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseYuan(s)
		if err != nil {
			return
		}
		if v < 0 || v > MaxFen {
			t.Fatalf("%q parsed to %d", s, v)
		}
		back, err := ParseYuan(v.Yuan())
		if err != nil || back != v {
			t.Fatalf("%q: %d does not round-trip through %q", s, v, v.Yuan())
		}
	})
}
