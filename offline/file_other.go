//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package offline

import (
	"os"
	"time"
)

// lockFile does nothing here: on these systems bbolt's own lock (taken with
// the same timeout, mapped to ErrLocked) is the only one, so the header
// check runs before the lock is held. That only risks misreporting a file
// that another process is writing at that moment, never damaging it.
func lockFile(*os.File, time.Duration) error { return nil }

// syncDir is a no-op where directories cannot be opened for fsync.
func syncDir(string) error { return nil }
