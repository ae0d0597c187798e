//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package offline

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockRetry is how often a held lock is retried; bbolt uses the same
// 50ms step.
const lockRetry = 50 * time.Millisecond

// lockFile takes the exclusive flock that bbolt itself takes, on the same
// open file, so the header check runs while no other process can be
// writing. bbolt's own flock on this descriptor then succeeds at once:
// flock locks belong to the open file, and it already holds this one.
// timeout <= 0 means a single attempt.
func lockFile(f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return err
		}
		if !time.Now().Before(deadline) {
			return ErrLocked
		}
		time.Sleep(min(lockRetry, time.Until(deadline)))
	}
}

// syncDir makes a newly created file's directory entry durable; without it
// a power cut right after the first order could lose the whole file even
// though the order itself was fsync'd.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
