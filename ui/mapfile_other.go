//go:build !unix

package ui

import (
	"os"
)

// mapFile reads a file whole where mapping it is not supported.
func mapFile(path string) (data []byte, unmap func(), err error) {
	data, err = os.ReadFile(path)
	return data, func() {}, err
}
