package agent_test

import (
	"regexp"
	"testing"

	"github.com/campuspos/kiosk/agent"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanMapper(t *testing.T) {
	m := agent.NewScanMapper([]agent.IDRule{
		{Device: "qr", Pattern: regexp.MustCompile(`^(?:20[0-9]{8})$`), IDType: "sno"},
		{Pattern: regexp.MustCompile(`^(?:1[0-9]{10})$`), IDType: "phone"},
	}, map[string]string{"desk": "acc"})
	cases := []struct {
		scan agent.Scan
		want string
	}{
		{agent.Scan{Device: "reader", Kind: agent.ScanCard, Text: "3197650001"}, "cardid"},
		{agent.Scan{Device: "qr", Kind: agent.ScanBarcode, Text: "280123456789012345"}, "barcode"},
		{agent.Scan{Device: "qr", Kind: agent.ScanBarcode, Text: "2024000001"}, "sno"},
		{agent.Scan{Device: "reader", Kind: agent.ScanCard, Text: "2024000001"}, "cardid"},
		{agent.Scan{Device: "reader", Kind: agent.ScanCard, Text: "13800000001"}, "phone"},
		{agent.Scan{Device: "desk", Kind: agent.ScanBarcode, Text: "100001"}, "acc"},
	}
	for _, c := range cases {
		q, err := m.Identify(c.scan)
		require.NoError(t, err)
		assert.Equal(t, c.want, q.Type, "%+v", c.scan)
		assert.Equal(t, c.scan.Text, q.ID)
	}
	_, err := m.Identify(agent.Scan{Device: "x", Kind: "weird", Text: "1"})
	assert.Error(t, err)
}
