package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/agent/onecard"
	"github.com/campuspos/kiosk/agent/onecard/sim"
)

// kioskctlStdin runs the command in-process with stdin, which is not a
// terminal: card --pwd-prompt reads the password as one line of it.
func (e *env) kioskctlStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runWithStdin(context.Background(), append([]string{"--config", e.config}, args...), strings.NewReader(stdin),
		&out, &errOut, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

func TestCardPasswordRight(t *testing.T) {
	e := newEnv(t)
	code, out, errOut := e.kioskctlStdin(t, sim.DemoNormalPassword+"\n", "--verbose", "card", "--idtype", "sno", "--id", "2024000001", "--pwd-prompt")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, sim.DemoNormal)
	assert.True(t, strings.HasSuffix(out, "password: right\n"), out)
	assert.NotContains(t, out+errOut, sim.DemoNormalPassword)
	assert.Contains(t, errOut, "method=synjones.onecard.query.card", "--verbose logs the call")

	// --json, and a line without its newline (a script's printf).
	code, out, errOut = e.kioskctlStdin(t, sim.DemoZhaoPassword, "--json", "card", "--idtype", "sno", "--id", "2024000004", "--pwd-prompt")
	require.Equal(t, exitOK, code, errOut)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &obj), out)
	assert.Equal(t, "right", obj["password"])
	assert.Len(t, obj["cards"], 2, "赵六's two cards share the password")
	assert.NotContains(t, out+errOut, sim.DemoZhaoPassword)

	st := e.simulator.Stats()
	assert.Equal(t, 2, st.PasswordChecks)
	assert.Zero(t, st.PasswordFailures)
}

// A wrong password is exit 4 with the platform's retcode, whichever the
// platform answers; the password is in no output and no log.
func TestCardPasswordWrong(t *testing.T) {
	for _, retcode := range []string{onecard.RetcodeAccountNotFound, "60099"} {
		t.Run(retcode, func(t *testing.T) {
			e := newEnv(t, func(o *sim.Options) { o.WrongPasswordRetcode = retcode })
			const wrong = "777777"
			code, out, errOut := e.kioskctlStdin(t, wrong+"\r\n", "--verbose", "card", "--idtype", "acc", "--id", sim.DemoRich, "--pwd-prompt")
			assert.Equal(t, exitWrongPassword, code, errOut)
			assert.Equal(t, "password: wrong (the platform answered "+retcode+")\n", out)
			assert.Contains(t, errOut, "refused the card password (retcode "+retcode+")")
			assert.NotContains(t, out+errOut, wrong)
			assert.NotContains(t, out, "李四", "nothing of the card is shown")

			code, out, errOut = e.kioskctlStdin(t, wrong+"\n", "--json", "--verbose", "card", "--idtype", "acc", "--id", sim.DemoRich, "--pwd-prompt")
			assert.Equal(t, exitWrongPassword, code)
			var obj map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &obj), out)
			assert.Equal(t, "wrong", obj["password"])
			assert.Equal(t, "wrong_password", obj["outcome"])
			assert.EqualValues(t, exitWrongPassword, obj["exit"])
			assert.Equal(t, retcode, obj["code"])
			assert.Empty(t, obj["cards"])
			assert.NotContains(t, out+errOut, wrong)

			assert.Equal(t, 2, e.simulator.Stats().PasswordFailures)
		})
	}
}

// The password is never taken from the command line, and a mistake that
// might hold one is refused without repeating it.
func TestCardPasswordNeverOnTheCommandLine(t *testing.T) {
	e := newEnv(t)
	const secret = "424242"
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"as the flag's value", secret + "\n", []string{"--pwd-prompt=" + secret}, "--pwd-prompt takes no value"},
		{"as an argument", "", []string{"--pwd-prompt", secret}, "card takes no arguments, got 1"},
		{"as an argument without --pwd-prompt", "", []string{secret}, "--pwd-prompt asks for it"},
		{"as a --pwd flag", "", []string{"--pwd=" + secret}, "not defined: -pwd"},
		{"stdin empty", "", []string{"--pwd-prompt"}, "holds no line"},
		{"empty line", "\n", []string{"--pwd-prompt"}, "the password is empty"},
		{"control character", secret + "\x1b\n", []string{"--pwd-prompt"}, "control character"},
		{"over 32 bytes", strings.Repeat(secret, 6) + "\n", []string{"--pwd-prompt"}, "invalid pwd: 36 bytes, at most 32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--json", "card", "--idtype", "sno", "--id", "2024000001"}, c.args...)
			code, out, errOut := e.kioskctlStdin(t, c.stdin, args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, c.want)
			assert.NotContains(t, out+errOut, secret)
		})
	}
	// A wrong identity is refused before the password is read.
	code, _, errOut := e.kioskctlStdin(t, secret+"\n", "card", "--idtype", "email", "--id", "x", "--pwd-prompt")
	assert.Equal(t, exitUsage, code)
	assert.NotContains(t, errOut, secret)
	assert.Zero(t, e.simulator.Stats().PasswordChecks, "nothing was checked")
}

func TestWrongPasswordExitCode(t *testing.T) {
	code, outcome, advice := exitCode(repeatable, &wrongPasswordError{refusal: &onecard.BusinessError{Retcode: "60003"}})
	assert.Equal(t, exitWrongPassword, code)
	assert.Equal(t, "wrong_password", outcome)
	assert.Empty(t, advice)
}
