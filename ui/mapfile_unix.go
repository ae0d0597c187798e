//go:build unix

package ui

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// mapFile maps a file read-only: its pages are read from the file when
// touched and belong to the page cache, not to the process's heap.
// unmap must be called when done; data must not be used after it. (A
// file truncated while mapped would fault on the pages cut off; a package
// upgrade replaces a font file rather than truncating it, and the kiosk
// holds the mapping only while it cuts the font, a few milliseconds.)
func mapFile(path string) (data []byte, unmap func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, errors.New("not a regular file")
	}
	if st.Size() == 0 {
		return nil, func() {}, nil
	}
	if st.Size() > 1<<30 {
		return nil, nil, fmt.Errorf("%d bytes: too large for a font", st.Size())
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map: %w", err)
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}
