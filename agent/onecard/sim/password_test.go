package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// A wrong pwd for a card that exists answers like the configured retcode
// and carries nothing of the card: the reply object is retcode and errmsg
// only, whichever retcode answers. The password never reaches the log.
func TestWrongPasswordRevealsNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		retcode, want, errmsg string
	}{
		{"", onecard.RetcodeAccountNotFound, "账户不存在 (account not found)"},
		{onecard.RetcodeAccountNotFound, onecard.RetcodeAccountNotFound, "账户不存在 (account not found)"},
		{"60099", "60099", "密码错误 (wrong password)"},
	}
	for _, c := range cases {
		t.Run("retcode "+c.want, func(t *testing.T) {
			t.Parallel()
			var log logLines
			r := newRig(t, log.option, func(o *sim.Options) { o.WrongPasswordRetcode = c.retcode })
			const wrong = "000000"
			for _, q := range []map[string]string{
				{"idtype": "sno", "id": "2024000001", "pwd": wrong},
				{"idtype": "acc", "id": sim.DemoNormal, "pwd": wrong, "get_merge": "1"},
				// 赵六's two cards: one wrong password refuses both.
				{"idtype": "sno", "id": "2024000004", "pwd": wrong},
				// Another card's password.
				{"idtype": "acc", "id": sim.DemoNormal, "pwd": sim.DemoRichPassword},
			} {
				got := r.send(t, r.form(t, onecard.MethodQueryCard, q))
				require.Equal(t, "0", got.errcode)
				assert.Equal(t, map[string]any{"retcode": c.want, "errmsg": c.errmsg}, got.inner, "%v", q)
			}
			got := r.send(t, r.form(t, onecard.MethodQueryCard, map[string]string{"idtype": "sno", "id": "2024000001", "pwd": sim.DemoNormalPassword}))
			require.Equal(t, "0", got.inner["retcode"], got.inner["errmsg"])
			require.Len(t, got.inner["card"], 1)

			st := r.srv.Stats()
			assert.Equal(t, 5, st.PasswordChecks)
			assert.Equal(t, 4, st.PasswordFailures)
			assert.Equal(t, 4, st.BusinessErrors[c.want])

			logged := log.String()
			assert.Contains(t, logged, "retcode "+c.want+" (wrong pwd)")
			for _, pw := range []string{wrong, sim.DemoNormalPassword, sim.DemoRichPassword} {
				assert.NotContains(t, logged, pw)
			}
		})
	}
}

// /_sim/stats counts a pwd compared with a card's password; without a pwd
// nothing is checked, and a pwd for an unknown identity or for a card
// without a password is no check either.
func TestPasswordChecksCounted(t *testing.T) {
	t.Parallel()
	cards := sim.DemoCards()
	cards[0].Password = ""
	r := newRig(t, func(o *sim.Options) { o.Cards = cards })
	for _, q := range []map[string]string{
		{"idtype": "acc", "id": sim.DemoRich},
		{"idtype": "acc", "id": sim.DemoNormal, "pwd": "anything"},
		{"idtype": "acc", "id": "999999", "pwd": "anything"},
		{"idtype": "acc", "id": sim.DemoRich, "pwd": sim.DemoRichPassword},
	} {
		r.send(t, r.form(t, onecard.MethodQueryCard, q))
	}
	resp, err := r.httpc.Get(strings.TrimSuffix(r.srv.URL(), "/tsm") + sim.AdminPrefix + "stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st map[string]any
	require.NoError(t, json.Unmarshal(body, &st))
	assert.EqualValues(t, 1, st["password_checks"], "%s", body)
	assert.EqualValues(t, 0, st["password_failures"])
}

func TestDemoCardsHavePasswords(t *testing.T) {
	t.Parallel()
	byAccount := map[string]sim.Card{}
	for _, c := range sim.DemoCards() {
		assert.Len(t, c.Password, 6, c.Account)
		byAccount[c.Account] = c
	}
	assert.Equal(t, "123456", byAccount[sim.DemoNormal].Password)
	assert.Equal(t, "654321", byAccount[sim.DemoRich].Password)
	assert.Equal(t, byAccount[sim.DemoLost].Password, byAccount[sim.DemoBarcode].Password, "赵六's cards share one")
}

func TestWrongPasswordRetcodeChecked(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"0", "00", "060003", "abc", "6000 3", "123456789", "-1"} {
		assert.Error(t, sim.ValidateRetcode(v), "%q", v)
	}
	for _, v := range []string{"60003", "60099", "1", "99999999"} {
		assert.NoError(t, sim.ValidateRetcode(v), "%q", v)
	}
	clientPriv, _, secret := onecardtest.TestKeys()
	_, err := sim.NewHandler(sim.Options{AppKey: "k", AppSecret: secret, ClientKey: &clientPriv.PublicKey, WrongPasswordRetcode: "0"})
	assert.ErrorContains(t, err, "WrongPasswordRetcode")
}
