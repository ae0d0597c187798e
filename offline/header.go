package offline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"os"
)

// Layout of a bbolt meta page (go.etcd.io/bbolt internal/common, data
// format version 2). bbolt writes these structs in the machine's native byte
// order, so that is how they are read back.
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltPageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	boltMetaSize       = 64 // magic..txid (56 bytes) + checksum u64
	boltNoFreelist     = ^uint64(0)

	// The first meta page is read from a 4 KiB window, as bbolt does.
	boltProbeSize = 0x1000
)

// boltMeta is what the pre-open check needs from one meta page.
type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages [0, pgid) are in use
	txid     uint64
}

// parseBoltMeta decodes the meta page that starts at page[0]; it fails unless
// the page carries bbolt's magic, version 2 and a matching checksum — the
// same test bbolt applies before it trusts a meta page.
func parseBoltMeta(page []byte) (boltMeta, error) {
	if len(page) < boltPageHeaderSize+boltMetaSize {
		return boltMeta{}, errors.New("too short for a bbolt meta page")
	}
	m := page[boltPageHeaderSize : boltPageHeaderSize+boltMetaSize]
	ne := binary.NativeEndian
	if magic := ne.Uint32(m[0:4]); magic != boltMagic {
		return boltMeta{}, fmt.Errorf("bad magic %#08x", magic)
	}
	if v := ne.Uint32(m[4:8]); v != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt data format version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if sum := ne.Uint64(m[56:64]); sum != h.Sum64() {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	return boltMeta{
		pageSize: ne.Uint32(m[8:12]),
		root:     ne.Uint64(m[16:24]),
		freelist: ne.Uint64(m[32:40]),
		pgid:     ne.Uint64(m[40:48]),
		txid:     ne.Uint64(m[48:56]),
	}, nil
}

// checkBoltFile refuses a file that bbolt would mmap past its end or that is
// not a bbolt file at all. bbolt maps at least 32 KiB and trusts the meta
// page's high-water mark, so a truncated file turns into SIGBUS deep inside
// bbolt instead of an error; this check must run before bbolt sees the file.
// It only reads.
func checkBoltFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		return errors.New("file is empty (a kiosk database is never empty; " +
			"remove the file only if you are sure it holds no orders)")
	}

	first := make([]byte, min(size, boltProbeSize))
	if _, err := f.ReadAt(first, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read first meta page: %w", err)
	}
	meta0, err0 := parseBoltMeta(first)

	// The second meta page sits one page in. Its offset comes from the first
	// meta page when that one is good; otherwise bbolt probes the page sizes
	// it supports and so do we.
	var candidates []int64
	if err0 == nil {
		candidates = []int64{int64(meta0.pageSize)}
	} else {
		for i := range 15 {
			candidates = append(candidates, 1024<<i)
		}
	}
	var meta1 boltMeta
	err1 := errors.New("no second meta page found")
	for _, off := range candidates {
		if off <= 0 || off >= size {
			continue
		}
		buf := make([]byte, min(size-off, boltProbeSize))
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read second meta page: %w", err)
		}
		if m, err := parseBoltMeta(buf); err == nil {
			meta1, err1 = m, nil
			break
		} else {
			err1 = err
		}
	}

	if err0 != nil && err1 != nil {
		return fmt.Errorf("not a bbolt database (first meta page: %v; second: %v)", err0, err1)
	}
	// bbolt may use either meta page (the newer valid one, the other after a
	// torn write), so both must describe a file that is really there.
	for i, m := range []struct {
		meta boltMeta
		err  error
	}{{meta0, err0}, {meta1, err1}} {
		if m.err != nil {
			continue
		}
		if err := checkBoltMeta(m.meta, size); err != nil {
			return fmt.Errorf("meta page %d: %w", i, err)
		}
	}
	return nil
}

// checkBoltMeta checks one valid meta page against the file's size.
func checkBoltMeta(m boltMeta, size int64) error {
	const minPage = boltPageHeaderSize + boltMetaSize
	if m.pageSize < minPage || m.pageSize > 1<<30 {
		return fmt.Errorf("implausible page size %d", m.pageSize)
	}
	// Two meta pages exist in every bbolt file, so a smaller high-water
	// mark means the header itself is garbage.
	if m.pgid < 2 {
		return fmt.Errorf("implausible high-water page id %d", m.pgid)
	}
	if m.root >= m.pgid || (m.freelist != boltNoFreelist && m.freelist >= m.pgid) {
		return fmt.Errorf("root page %d or freelist page %d beyond high-water page id %d",
			m.root, m.freelist, m.pgid)
	}
	hi, need := bits.Mul64(m.pgid, uint64(m.pageSize))
	if hi != 0 || need > uint64(1<<62) {
		return fmt.Errorf("implausible size %d pages of %d bytes", m.pgid, m.pageSize)
	}
	if uint64(size) < need {
		return fmt.Errorf("file is truncated: it has %d bytes but its header says %d pages of %d bytes (%d bytes)",
			size, m.pgid, m.pageSize, need)
	}
	return nil
}
