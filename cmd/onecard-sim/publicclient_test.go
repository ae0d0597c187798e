package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/onecardtest"
	"github.com/campuspos/kiosk/agent/onecard/sim"
	"github.com/campuspos/kiosk/cmd/internal/demo"
)

// publicQueryCard is query.card as a public one-card SDK sends it: the
// spec's fields and the four extensions of newer platforms, every switch
// "1".
func publicQueryCard(idtype, id string) map[string]string {
	return map[string]string{"idtype": idtype, "id": id, "get_merge": "1",
		"get_idinfo": "1", "get_accinfo": "1", "getschcode": "1", "getcardid": "1"}
}

// rawCall posts a form built by the client's raw form builder as the
// public SDK posts it (no charset in the Content-Type) and returns the
// verified, decrypted reply object.
func rawCall(t *testing.T, c *onecard.Client, target, method, tok string, params any) map[string]any {
	t.Helper()
	form, err := c.BuildForm(method, tok, params)
	require.NoError(t, err)
	require.Equal(t, "2.0", form.Get("v"))
	resp, err := http.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)

	rep, err := onecard.ParseReply(method, resp.StatusCode, body)
	require.NoError(t, err)
	_, platformKey, secret := onecardtest.TestKeys()
	require.NoError(t, onecard.Verify(&platformKey.PublicKey, rep.Fields(), rep.Sign))
	require.Equal(t, onecard.ErrcodeOK, rep.Errcode, "the system layer passes the request")
	cipher, err := onecard.NewCipher(secret)
	require.NoError(t, err)
	plain, err := cipher.Decrypt(rep.Request)
	require.NoError(t, err)
	var outer map[string]map[string]any
	require.NoError(t, json.Unmarshal(plain, &outer))
	key, _ := onecard.RequestKey(method)
	require.Contains(t, outer, key)
	return outer[key]
}

// TestPublicClientQueryCard drives the served simulator with query.card
// shaped like a public one-card SDK's (the four extensions, v=2.0, the
// timestamp in local time: the SDK stamps the machine's clock, which on a
// campus keeps the platform's zone, Asia/Shanghai here): by default the
// simulator answers the extensions, and --strict refuses the same request
// as our own client's conformance tests want.
func TestPublicClientQueryCard(t *testing.T) {
	dir := t.TempDir()
	secret, clientPub, platformPriv := writeTestKeys(t, dir)
	clientKey, _, appSecret := onecardtest.TestKeys()
	cipher, err := onecard.NewCipher(appSecret)
	require.NoError(t, err)
	local, err := time.LoadLocation(demo.DefaultTimezone)
	require.NoError(t, err)

	tests := []struct {
		name   string
		strict bool
	}{
		{"tolerant by default", false},
		{"--strict", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--listen", "127.0.0.1:0", "--app-key", "k", "--app-secret-file", secret,
				"--client-public-key", clientPub, "--platform-private-key", platformPriv, "-v"}
			if tt.strict {
				args = append(args, "--strict")
			}
			simulator := start(t, args...)
			// The raw form builder is given no platform key: the test
			// checks each reply's signature itself.
			c, err := onecard.New(onecard.Config{URL: simulator.url, AppKey: "k", Cipher: cipher, PrivateKey: clientKey, Location: local})
			require.NoError(t, err)

			// Token and a raw pay work in either mode, as they always did.
			tokReply := rawCall(t, c, simulator.url, onecard.MethodAccessToken, strings.Repeat("0", onecard.FirstTokenLen), struct{}{})
			require.Equal(t, "0", tokReply["retcode"])
			tok := tokReply["access_token"].(string)
			pay := rawCall(t, c, simulator.url, onecard.MethodPay, tok, map[string]string{"account": sim.DemoNormal,
				"tranamt": "1.00", "acctype": "###", "mercacc": "100000", "order_no": "PUB-1"})
			assert.Equal(t, "0", pay["retcode"], pay["errmsg"])

			form, err := c.BuildForm(onecard.MethodQueryCard, tok, publicQueryCard("sno", "2024000004"))
			require.NoError(t, err)
			stamp, err := time.ParseInLocation(onecard.TimeLayout, form.Get("timestamp"), local)
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now(), stamp, time.Minute, "stamped in local time")

			got := rawCall(t, c, simulator.url, onecard.MethodQueryCard, tok, publicQueryCard("sno", "2024000004"))
			if tt.strict {
				assert.Equal(t, sim.RetcodeBadField, got["retcode"])
				assert.Contains(t, got["errmsg"], `unknown field "get_accinfo"`)
				assert.NotContains(t, got, "card")
				assert.Contains(t, simulator.stderr.String(), "strict: request fields v2.42 does not list are refused")
				assert.Equal(t, exitOK, simulator.stop())
				return
			}
			require.Equal(t, "0", got["retcode"], got["errmsg"])
			cards, ok := got["card"].([]any)
			require.True(t, ok, "card is an array")
			require.Len(t, cards, 2, "the lost card and the new one of 赵六")
			card := cards[1].(map[string]any)
			assert.Equal(t, sim.DemoBarcode, card["account"])
			assert.Equal(t, "3197650006", card["cardid"])
			assert.Equal(t, "0001", card["schcode"])
			assert.Equal(t, []any{map[string]any{"type": "###", "name": "卡账户", "balance": "20000",
				"autotrans_limite": "0", "autotrans_amt": "0", "autotrans_flag": "0"}}, card["accinfo"])
			for _, k := range []string{"sex", "deptcode", "deptname", "pidcode", "pidname", "merge_flag"} {
				assert.IsType(t, "", card[k], k)
			}

			// A field nobody knows is ignored, and the -v log names it.
			withTrace := publicQueryCard("acc", sim.DemoNormal)
			withTrace["trace_id"] = "abc"
			got = rawCall(t, c, simulator.url, onecard.MethodQueryCard, tok, withTrace)
			require.Equal(t, "0", got["retcode"], got["errmsg"])
			log := simulator.stderr.String()
			assert.Contains(t, log, "answered get_idinfo, get_accinfo, getschcode, getcardid, beyond v2.42")
			assert.Contains(t, log, `ignored fields v2.42 does not list: "trace_id"`)
			assert.NotContains(t, log, "strict:")
			assert.Equal(t, exitOK, simulator.stop())
		})
	}
}
