package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/campuspos/kiosk/cmd/internal/demo"
	"github.com/campuspos/kiosk/cmd/internal/syncbuf"
	"github.com/campuspos/kiosk/offline"
)

// Time limits of the smoke test. Start-up is generous: the child is this
// race-instrumented test binary drawing with software OpenGL, possibly
// beside the rest of `make test`.
const (
	smokeStartLimit = 2 * time.Minute
	smokeExitLimit  = 10 * time.Second
)

// TestSmoke starts the real kiosk (this test binary as main) in demo mode
// under an X display, waits for the idle screen through KIOSK_STATE_FILE,
// and checks that SIGTERM ends it cleanly.
func TestSmoke(t *testing.T) {
	display := os.Getenv("DISPLAY")
	if display == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		if _, err := exec.LookPath("Xvfb"); err != nil {
			t.Skip("no display and no Xvfb: install xvfb (`make deps` does) to run the kiosk smoke test")
		}
		display = startXvfb(t)
	}

	dir := t.TempDir()
	statePath := filepath.Join(t.TempDir(), "state.json")
	child := startKioskChild(t, display, dir, "KIOSK_STATE_FILE="+statePath)
	cmd, stderr, exited := child.cmd, child.stderr, child.exited
	start := time.Now()

	// The idle screen, online.
	var st stateFile
	deadline := time.After(smokeStartLimit)
	for st.Screen != "idle" || !st.Online {
		select {
		case <-exited:
			t.Fatalf("the kiosk exited before its idle screen (%v):\n%s", *child.waitErr, stderr)
		case <-deadline:
			t.Fatalf("no idle screen after %s; last state %+v:\n%s", smokeStartLimit, st, stderr)
		case <-time.After(100 * time.Millisecond):
		}
		if data, err := os.ReadFile(statePath); err == nil {
			st = stateFile{}
			require.NoError(t, json.Unmarshal(data, &st), "the state file is replaced whole: %q", data)
		}
	}
	t.Logf("idle screen after %s: %+v", time.Since(start).Round(time.Millisecond), st)
	assert.Equal(t, "kiosk", st.Mode, "the demo starts in self-service")
	assert.Zero(t, st.Unfinished)

	// The status endpoint of the running kiosk: healthy, and its metrics
	// in the Prometheus format.
	require.NotEmpty(t, st.Status, "the demo serves its status endpoint")
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + st.Status + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	code, body := get("/healthz")
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"ready"`)
	code, body = get("/status")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"termid"`)
	code, body = get("/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "kiosk_platform_online 1")

	// The kiosk settles on its own: the demo settles yesterday at once
	// (settlement.at 00:00, no jitter), and /status says so.
	yesterday := time.Now().In(demoZone(t)).AddDate(0, 0, -1).Format("20060102")
	var doc struct {
		Settlement struct {
			Last *struct {
				Date  string `json:"date"`
				State string `json:"state"`
			} `json:"last"`
		} `json:"settlement"`
	}
	settleDeadline := time.After(smokeStartLimit)
	for doc.Settlement.Last == nil || doc.Settlement.Last.Date != yesterday || doc.Settlement.Last.State != "done" {
		select {
		case <-settleDeadline:
			t.Fatalf("yesterday (%s) not settled after %s; last %+v:\n%s", yesterday, smokeStartLimit, doc.Settlement.Last, stderr)
		case <-time.After(100 * time.Millisecond):
		}
		_, body = get("/status")
		require.NoError(t, json.Unmarshal([]byte(body), &doc))
	}
	t.Logf("yesterday (%s) settled by the kiosk itself after %s", yesterday, time.Since(start).Round(time.Millisecond))

	// SIGTERM: a clean exit, in time, with exit status 0.
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
		require.NoError(t, *child.waitErr, "exit status after SIGTERM:\n%s", stderr)
	case <-time.After(smokeExitLimit):
		t.Fatalf("still running %s after SIGTERM:\n%s", smokeExitLimit, stderr)
	}
	log := stderr.String()
	assert.Contains(t, log, "shutting down")
	assert.NotContains(t, log, "DATA RACE")
	assert.NotContains(t, log, "locale", "LANG=C.UTF-8 starts without a locale error")

	// The journal was closed: it opens at once, no lock left behind.
	s, err := offline.Open(filepath.Join(dir, demo.Store), offline.WithLockTimeout(0))
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

// demoZone is the demo platform's time zone, whose days the kiosk settles.
func demoZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(demo.DefaultTimezone)
	require.NoError(t, err)
	return loc
}

// startXvfb starts a virtual X server on a free display number, which it
// picks itself (-displayfd), and stops it when the test ends; extra are
// more of its options.
func startXvfb(t *testing.T, extra ...string) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	xvfb := exec.Command("Xvfb", append([]string{"-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"}, extra...)...)
	xvfb.ExtraFiles = []*os.File{w} // fd 3 in the child
	out := &syncbuf.Buffer{}
	xvfb.Stdout, xvfb.Stderr = out, out
	err = xvfb.Start()
	w.Close()
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		_ = xvfb.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		// SIGTERM lets Xvfb remove its lock file and socket.
		_ = xvfb.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = xvfb.Process.Kill()
			<-done
		}
	})

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case n := <-lines:
		if n == "" {
			t.Fatalf("Xvfb did not start:\n%s", out)
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb did not report its display within 30s:\n%s", out)
	}
	return ""
}

// kioskChild is the real kiosk (this test binary as main) in demo mode in
// a child process; exited is closed when it has exited, with *waitErr set.
type kioskChild struct {
	cmd     *exec.Cmd
	stderr  *syncbuf.Buffer
	exited  chan struct{}
	waitErr *error
}

// startKioskChild starts the demo kiosk in dir on display, windowed, with
// env added to this process's environment, under the C locale a bare
// systemd unit gives (the packaged unit sets C.UTF-8); it is killed at the
// test's end if it still runs.
func startKioskChild(t *testing.T, display, dir string, env ...string) *kioskChild {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "--demo", dir, "--windowed")
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "LANG" && name != "LC_ALL" && name != "LC_MESSAGES" && name != "LANGUAGE" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LANG=C.UTF-8", "KIOSK_TEST_AS_MAIN=1", "DISPLAY="+display,
		// Fyne keeps preferences under the user's config directory; the
		// test must not write into the real one.
		"XDG_CONFIG_HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	c := &kioskChild{cmd: cmd, stderr: &syncbuf.Buffer{}, exited: make(chan struct{}), waitErr: new(error)}
	cmd.Stdout, cmd.Stderr = c.stderr, c.stderr
	require.NoError(t, cmd.Start())
	go func() {
		*c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = cmd.Process.Kill()
			<-c.exited
		}
	})
	return c
}
