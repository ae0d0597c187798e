package status

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/campuspos/kiosk/agent/onecard"
)

// A failed settlement's reason is stored as its error's text: /status
// shows it without what the platform said (a message may name a card
// holder), as errorSummary does for an error.
func TestSettlementReasonDropsPlatformText(t *testing.T) {
	const said = "账户 张三 6217000012345678"
	bill := onecard.MethodDownBill
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&onecard.BusinessError{Method: bill, Retcode: onecard.RetcodeRecordNotFound, Msg: said},
			errorSummary(&onecard.BusinessError{Method: bill, Retcode: onecard.RetcodeRecordNotFound})},
		{&onecard.TextError{Method: bill, Status: 200, Text: said}, "onecard " + bill + ": platform answered with text"},
		{&onecard.TransportError{Method: bill, Sent: true, Status: 502, Err: &onecard.TextError{Method: bill, Status: 502, Text: said}},
			"onecard " + bill + ": platform answered HTTP 502 after the request was sent (outcome unknown)"},
		{&onecard.DecodeError{Method: bill, What: "bill trailer", Err: errors.New(said)}, "onecard " + bill + ": undecodable reply: bill trailer"},
		{errors.New("journal: disk full"), "journal: disk full"},
	} {
		got := settlementReason(tc.err.Error())
		assert.Equal(t, tc.want, got)
		assert.Equal(t, "settling: "+tc.want, settlementReason(fmt.Errorf("settling: %w", tc.err).Error()), "wrapped")
		joined := settlementReason(errors.Join(tc.err, tc.err).Error())
		assert.Equal(t, tc.want+"\n"+tc.want, joined, "joined")
		assert.NotContains(t, joined, "张三")
	}
}
