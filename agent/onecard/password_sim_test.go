package onecard_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// The card's query password (query.card pwd) against the simulator: the
// right one returns the card, a wrong one the retcode the platform was set
// to answer, and the password shows in no error, observation or dump.
func TestSimQueryCardPassword(t *testing.T) {
	t.Parallel()
	const customRetcode = "60099" // a platform's own code for a wrong password
	for _, retcode := range []string{"", onecard.RetcodeAccountNotFound, customRetcode} {
		want := retcode
		if want == "" {
			want = onecard.RetcodeAccountNotFound
		}
		t.Run("wrong password answers "+want, func(t *testing.T) {
			t.Parallel()
			e := setup(t, func(o *sim.Options) { o.WrongPasswordRetcode = retcode })
			var calls observed
			c := e.client(t, calls.on)

			right := onecard.CardQuery{IDType: "sno", ID: "2024000001", Password: sim.DemoNormalPassword}
			cards, err := c.QueryCard(t.Context(), e.tok, right)
			require.NoError(t, err)
			require.Len(t, cards, 1)
			assert.Equal(t, sim.DemoNormal, cards[0].Account)

			// 赵六's two cards share one password: both come back.
			cards, err = c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "sno", ID: "2024000004", Password: sim.DemoZhaoPassword})
			require.NoError(t, err)
			assert.Len(t, cards, 2)

			const wrongPassword = "999999"
			wrong := right
			wrong.Password = wrongPassword
			cards, err = c.QueryCard(t.Context(), e.tok, wrong)
			requireBusiness(t, err, want)
			assert.Empty(t, cards, "a wrong password reveals no card")
			assert.NotContains(t, err.Error(), wrongPassword)
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), wrongPassword)

			// Another card's password is wrong too.
			_, err = c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "acc", ID: sim.DemoRich, Password: sim.DemoNormalPassword})
			requireBusiness(t, err, want)

			// Without a password the card is found as before.
			cards, err = c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal})
			require.NoError(t, err)
			assert.Len(t, cards, 1)

			// Refused before sending: the error names the field, not its value.
			long := strings.Repeat("7", 33)
			_, err = c.QueryCard(t.Context(), e.tok, onecard.CardQuery{IDType: "acc", ID: sim.DemoNormal, Password: long})
			var re *onecard.RequestError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "pwd", re.Field)
			assert.NotContains(t, err.Error(), long)

			st := e.srv.Stats()
			assert.Equal(t, 4, st.PasswordChecks, "right, 赵六's, wrong, another card's")
			assert.Equal(t, 2, st.PasswordFailures)

			seen := calls.all()
			require.Len(t, seen, 6)
			for _, ci := range seen {
				if ci.Err != nil {
					for _, pw := range []string{wrongPassword, sim.DemoNormalPassword, long} {
						assert.NotContains(t, fmt.Sprintf("%v %+v", ci.Err, ci), pw)
					}
				}
			}
		})
	}
}

// A CardQuery printed with fmt, as a debug dump would, hides its password.
func TestCardQueryFormatHidesPassword(t *testing.T) {
	q := onecard.CardQuery{IDType: "sno", ID: "2024000001", Password: "123456"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		got := fmt.Sprintf(verb, q)
		assert.NotContains(t, got, "123456", verb)
		assert.Contains(t, got, "2024000001", verb)
	}
	assert.Contains(t, fmt.Sprintf("%+v", q), "Password:[redacted]")
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%#v", q), "onecard.CardQuery{"), fmt.Sprintf("%#v", q))
	assert.Contains(t, fmt.Sprintf("%v", &q), "[redacted]", "through a pointer too")
	assert.Equal(t, "{sno 2024000001 false }", fmt.Sprintf("%v", onecard.CardQuery{IDType: "sno", ID: "2024000001"}),
		"without a password the dump is fmt's own")
	assert.Equal(t, "123456", q.Password, "the value itself is untouched")
}
