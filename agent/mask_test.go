package agent_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent"
)

func TestMaskAccount(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		"0001":               "0001",
		"100001":             "**0001",
		"3197650001":         "******0001",
		"**0001":             "**0001",
		"280123456789012345": "**************2345",
		"张三丰李四王五":            "***李四王五",
	} {
		assert.Equal(t, want, agent.MaskAccount(in), "%q", in)
	}
	assert.Equal(t, 0.0, testing.AllocsPerRun(10, func() { agent.MaskAccount("******0001") }), "a masked value is returned as it is")
}
