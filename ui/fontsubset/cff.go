package fontsubset

import (
	"errors"
	"math"
	"slices"
)

// A CFF table (Adobe Technical Note #5176) is cut by writing it anew:
// header, name, strings and global subroutines as they were; a Top DICT
// whose offsets point at a new charset, FDSelect, CharStrings and FDArray;
// and the Private DICTs (with their local subroutines) of the font dicts
// the kept glyphs use. Offsets are written as 5-byte integers, so every
// size is known before any offset is.

// DICT operators this cutter rewrites.
const (
	opCharset     = 15
	opEncoding    = 16
	opCharStrings = 17
	opPrivate     = 18
	opSubrs       = 19
	opROS         = 12<<8 | 30
	opFDArray     = 12<<8 | 36
	opFDSelect    = 12<<8 | 37
	opSynthetic   = 12<<8 | 20
	opCharstrType = 12<<8 | 6
)

// dictEntry is one operator of a DICT with its operands, as written.
type dictEntry struct {
	op   int
	args [][]byte // each operand's bytes
	ints []int    // each operand's value when an integer (else 0)
}

// parseDict reads a DICT's operators and operands.
func parseDict(b []byte) ([]dictEntry, error) {
	var out []dictEntry
	var args [][]byte
	var ints []int
	for i := 0; i < len(b); {
		b0 := int(b[i])
		start := i
		switch {
		case b0 <= 21:
			op := b0
			i++
			if b0 == 12 {
				if i >= len(b) {
					return nil, bad("CFF DICT: escape at end")
				}
				op = 12<<8 | int(b[i])
				i++
			}
			out = append(out, dictEntry{op: op, args: args, ints: ints})
			args, ints = nil, nil
			continue
		case b0 == 28:
			if i+3 > len(b) {
				return nil, bad("CFF DICT: truncated number")
			}
			ints = append(ints, int(int16(be.Uint16(b[i+1:]))))
			i += 3
		case b0 == 29:
			if i+5 > len(b) {
				return nil, bad("CFF DICT: truncated number")
			}
			ints = append(ints, int(int32(be.Uint32(b[i+1:]))))
			i += 5
		case b0 == 30:
			i++
			for done := false; !done; i++ {
				if i >= len(b) {
					return nil, bad("CFF DICT: unterminated real number")
				}
				done = b[i]&0x0f == 0x0f || b[i]>>4 == 0x0f
			}
			ints = append(ints, 0)
		case b0 >= 32 && b0 <= 246:
			ints = append(ints, b0-139)
			i++
		case b0 >= 247 && b0 <= 254:
			if i+2 > len(b) {
				return nil, bad("CFF DICT: truncated number")
			}
			v := (b0-247)*256 + int(b[i+1]) + 108
			if b0 >= 251 {
				v = -(b0-251)*256 - int(b[i+1]) - 108
			}
			ints = append(ints, v)
			i += 2
		default:
			return nil, bad("CFF DICT: reserved byte %d", b0)
		}
		args = append(args, b[start:i])
	}
	if len(args) > 0 {
		return nil, bad("CFF DICT: operands without an operator")
	}
	return out, nil
}

// int5 writes v as a 5-byte DICT integer.
func int5(v int) []byte {
	return []byte{29, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// writeDict writes entries, with the operands of the operators in set
// replaced by 5-byte integers.
func writeDict(entries []dictEntry, set map[int][]int) []byte {
	var out []byte
	for _, e := range entries {
		if vals, ok := set[e.op]; ok {
			for _, v := range vals {
				out = append(out, int5(v)...)
			}
		} else {
			for _, a := range e.args {
				out = append(out, a...)
			}
		}
		if e.op > 0xff {
			out = append(out, 12, byte(e.op))
		} else {
			out = append(out, byte(e.op))
		}
	}
	return out
}

func find(entries []dictEntry, op int) (dictEntry, bool) {
	for _, e := range entries {
		if e.op == op {
			return e, true
		}
	}
	return dictEntry{}, false
}

// operands returns op's integer operands, n of them, or an error naming
// what.
func operands(entries []dictEntry, op, n int, what string) ([]int, error) {
	e, ok := find(entries, op)
	if !ok {
		return nil, bad("CFF: no %s", what)
	}
	if len(e.ints) != n {
		return nil, bad("CFF: %s has %d operands, not %d", what, len(e.ints), n)
	}
	return e.ints, nil
}

// readIndex reads the INDEX at off: its items and where it ends.
func readIndex(b []byte, off int) ([][]byte, int, error) {
	if off < 0 || off+2 > len(b) {
		return nil, 0, bad("CFF INDEX at %d: out of range", off)
	}
	count := int(be.Uint16(b[off:]))
	if count == 0 {
		return nil, off + 2, nil
	}
	if off+3 > len(b) {
		return nil, 0, bad("CFF INDEX at %d: truncated", off)
	}
	offSize := int(b[off+2])
	if offSize < 1 || offSize > 4 {
		return nil, 0, bad("CFF INDEX at %d: offset size %d", off, offSize)
	}
	offs := off + 3
	base := offs + (count+1)*offSize - 1
	if base+1 > len(b) {
		return nil, 0, bad("CFF INDEX at %d: offsets out of range", off)
	}
	at := func(i int) int {
		v := 0
		for _, c := range b[offs+i*offSize : offs+(i+1)*offSize] {
			v = v<<8 | int(c)
		}
		return v
	}
	items := make([][]byte, count)
	prev := at(0)
	if prev != 1 {
		return nil, 0, bad("CFF INDEX at %d: first offset %d", off, prev)
	}
	for i := range count {
		next := at(i + 1)
		if next < prev || base+next > len(b) {
			return nil, 0, bad("CFF INDEX at %d: item %d out of range", off, i)
		}
		items[i] = b[base+prev : base+next]
		prev = next
	}
	return items, base + prev, nil
}

// indexLen is how many bytes writeIndex writes for items.
func indexLen(items [][]byte) int {
	if len(items) == 0 {
		return 2
	}
	total := 0
	for _, it := range items {
		total += len(it)
	}
	return 3 + (len(items)+1)*offSizeFor(total+1) + total
}

func offSizeFor(maxOff int) int {
	switch {
	case maxOff <= 0xff:
		return 1
	case maxOff <= 0xffff:
		return 2
	case maxOff <= 0xffffff:
		return 3
	}
	return 4
}

// writeIndex appends items as an INDEX to out.
func writeIndex(out []byte, items [][]byte) []byte {
	out = be.AppendUint16(out, uint16(len(items)))
	if len(items) == 0 {
		return out
	}
	total := 0
	for _, it := range items {
		total += len(it)
	}
	size := offSizeFor(total + 1)
	out = append(out, byte(size))
	put := func(v int) {
		for s := size - 1; s >= 0; s-- {
			out = append(out, byte(v>>(8*s)))
		}
	}
	at := 1
	put(at)
	for _, it := range items {
		at += len(it)
		put(at)
	}
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// readCharset returns each glyph's SID (or CID, in a CID-keyed font).
func readCharset(b []byte, off, n int, cid bool) ([]int, error) {
	out := make([]int, n)
	if off <= 2 {
		if cid || off != 0 {
			return nil, bad("CFF: predefined charset %d not supported", off)
		}
		for i := range out {
			out[i] = i // ISOAdobe: glyph i is SID i
		}
		return out, nil
	}
	if off >= len(b) {
		return nil, bad("CFF charset: out of range")
	}
	format, at := b[off], off+1
	need := func(k int) error {
		if at+k > len(b) {
			return bad("CFF charset: truncated")
		}
		return nil
	}
	for g := 1; g < n; {
		switch format {
		case 0:
			if err := need(2); err != nil {
				return nil, err
			}
			out[g] = int(be.Uint16(b[at:]))
			g, at = g+1, at+2
		case 1, 2:
			w := 1 + int(format)
			if err := need(2 + int(format)); err != nil {
				return nil, err
			}
			first, left := int(be.Uint16(b[at:])), int(b[at+2])
			if format == 2 {
				left = int(be.Uint16(b[at+2:]))
			}
			at += 1 + w
			for k := 0; k <= left && g < n; k++ {
				out[g] = first + k
				g++
			}
		default:
			return nil, bad("CFF charset: unknown format %d", format)
		}
	}
	return out, nil
}

// readFDSelect returns each glyph's font dict.
func readFDSelect(b []byte, off, n, fds int) ([]int, error) {
	if off < 0 || off >= len(b) {
		return nil, bad("CFF FDSelect: out of range")
	}
	out := make([]int, n)
	switch format := b[off]; format {
	case 0:
		if off+1+n > len(b) {
			return nil, bad("CFF FDSelect: truncated")
		}
		for i := range out {
			out[i] = int(b[off+1+i])
		}
	case 3:
		if off+3 > len(b) {
			return nil, bad("CFF FDSelect: truncated")
		}
		nr := int(be.Uint16(b[off+1:]))
		recs := off + 3
		if recs+3*nr+2 > len(b) || nr == 0 {
			return nil, bad("CFF FDSelect: %d ranges out of range", nr)
		}
		for r := range nr {
			first, fd := int(be.Uint16(b[recs+3*r:])), int(b[recs+3*r+2])
			end := int(be.Uint16(b[recs+3*r+3:])) // the next first, or the sentinel
			if first > end || end > n || (r == 0 && first != 0) {
				return nil, bad("CFF FDSelect: range %d out of order", r)
			}
			for g := first; g < end; g++ {
				out[g] = fd
			}
		}
		if int(be.Uint16(b[recs+3*nr:])) != n {
			return nil, bad("CFF FDSelect: ranges end at %d of %d glyphs", be.Uint16(b[recs+3*nr:]), n)
		}
	default:
		return nil, bad("CFF FDSelect: unknown format %d", format)
	}
	for _, fd := range out {
		if fd >= fds {
			return nil, bad("CFF FDSelect: font dict %d of %d", fd, fds)
		}
	}
	return out, nil
}

// private is a Private DICT with its local subroutines, as read.
type private struct {
	dict  []dictEntry
	subrs [][]byte // nil without
}

func readPrivate(b []byte, sizeOff []int) (private, error) {
	size, off := sizeOff[0], sizeOff[1]
	if size < 0 || off < 0 || off+size > len(b) {
		return private{}, bad("CFF Private DICT out of range")
	}
	d, err := parseDict(b[off : off+size])
	if err != nil {
		return private{}, err
	}
	p := private{dict: d}
	if e, ok := find(d, opSubrs); ok {
		if len(e.ints) != 1 || e.ints[0] <= 0 {
			return private{}, bad("CFF Private DICT: bad Subrs offset")
		}
		subrs, _, err := readIndex(b, off+e.ints[0])
		if err != nil {
			return private{}, err
		}
		p = p.withSubrs(subrs)
	}
	return p, nil
}

// write appends the Private DICT then its subroutines (right after it,
// where its Subrs operator points) to out.
func (p private) write(out []byte) []byte {
	set := map[int][]int{}
	if p.subrs != nil {
		set[opSubrs] = []int{p.dictLen()}
	}
	out = append(out, writeDict(p.dict, set)...)
	if p.subrs != nil {
		out = writeIndex(out, p.subrs)
	}
	return out
}

// withSubrs returns p with subrs as its subroutines; none (nil or empty)
// drops its Subrs operator.
func (p private) withSubrs(subrs [][]byte) private {
	if len(subrs) == 0 {
		p.dict = slices.DeleteFunc(slices.Clone(p.dict), func(e dictEntry) bool { return e.op == opSubrs })
		subrs = nil
	}
	p.subrs = subrs
	return p
}

// dictLen is how many bytes of write's are the DICT (the size the
// Private operator gives).
func (p private) dictLen() int {
	if p.subrs == nil {
		return len(writeDict(p.dict, nil))
	}
	return len(writeDict(p.dict, map[int][]int{opSubrs: {0}}))
}

// len is how many bytes write appends.
func (p private) len() int {
	if p.subrs == nil {
		return p.dictLen()
	}
	return p.dictLen() + indexLen(p.subrs)
}

// cutCFF writes the CFF table of the kept glyphs (sorted, .notdef first).
func cutCFF(b []byte, keep []int, numGlyphs int) ([]byte, error) {
	if len(b) < 4 || b[0] != 1 {
		return nil, bad("CFF: not version 1")
	}
	hdrSize := int(b[2])
	names, end, err := readIndex(b, hdrSize)
	if err != nil {
		return nil, err
	}
	tops, end, err := readIndex(b, end)
	if err != nil {
		return nil, err
	}
	if len(tops) != 1 || len(names) != 1 {
		return nil, bad("CFF: %d fonts in one table", len(tops))
	}
	strStart := end
	_, end, err = readIndex(b, end)
	if err != nil {
		return nil, err
	}
	stringIdx := b[strStart:end]
	globals, _, err := readIndex(b, end)
	if err != nil {
		return nil, err
	}
	top, err := parseDict(tops[0])
	if err != nil {
		return nil, err
	}
	if _, ok := find(top, opSynthetic); ok {
		return nil, bad("CFF: synthetic fonts not supported")
	}
	if e, ok := find(top, opCharstrType); ok && (len(e.ints) != 1 || e.ints[0] != 2) {
		return nil, bad("CFF: charstring type other than 2")
	}
	csOff, err := operands(top, opCharStrings, 1, "CharStrings")
	if err != nil {
		return nil, err
	}
	charstrings, _, err := readIndex(b, csOff[0])
	if err != nil {
		return nil, err
	}
	if len(charstrings) != numGlyphs {
		return nil, bad("CFF: %d charstrings for %d glyphs", len(charstrings), numGlyphs)
	}
	_, cid := find(top, opROS)
	charsetOff := 0
	if e, ok := find(top, opCharset); ok && len(e.ints) == 1 {
		charsetOff = e.ints[0]
	}
	charset, err := readCharset(b, charsetOff, numGlyphs, cid)
	if err != nil {
		return nil, err
	}

	// The font dicts (a CID-keyed font's FDArray, or the one Private DICT
	// of another) and which one each kept glyph uses.
	var fdDicts [][]dictEntry // nil entries for a font without FDArray
	var privs []private
	fdOf := make([]int, numGlyphs)
	if cid {
		arrOff, err := operands(top, opFDArray, 1, "FDArray")
		if err != nil {
			return nil, err
		}
		arr, _, err := readIndex(b, arrOff[0])
		if err != nil {
			return nil, err
		}
		if len(arr) == 0 || len(arr) > 256 {
			return nil, bad("CFF: %d font dicts", len(arr))
		}
		selOff, err := operands(top, opFDSelect, 1, "FDSelect")
		if err != nil {
			return nil, err
		}
		if fdOf, err = readFDSelect(b, selOff[0], numGlyphs, len(arr)); err != nil {
			return nil, err
		}
		for _, raw := range arr {
			d, err := parseDict(raw)
			if err != nil {
				return nil, err
			}
			so, err := operands(d, opPrivate, 2, "font dict's Private")
			if err != nil {
				return nil, err
			}
			p, err := readPrivate(b, so)
			if err != nil {
				return nil, err
			}
			fdDicts, privs = append(fdDicts, d), append(privs, p)
		}
	} else {
		so, err := operands(top, opPrivate, 2, "Private")
		if err != nil {
			return nil, err
		}
		p, err := readPrivate(b, so)
		if err != nil {
			return nil, err
		}
		privs = []private{p}
	}

	// The font dicts the kept glyphs use, renumbered in order.
	usedFD := make([]int, len(privs))
	for i := range usedFD {
		usedFD[i] = -1
	}
	var fds []int
	for _, g := range keep {
		if fd := fdOf[g]; usedFD[fd] < 0 {
			usedFD[fd] = 0
			fds = append(fds, fd)
		}
	}
	slices.Sort(fds)
	for i, fd := range fds {
		usedFD[fd] = i
	}

	// The new parts.
	n := len(keep)
	newCharset := make([]byte, 1, 1+2*n)
	for _, g := range keep[1:] {
		newCharset = be.AppendUint16(newCharset, uint16(charset[g]))
	}
	var newSelect []byte
	if cid {
		type rng struct{ first, fd int }
		var rs []rng
		for i, g := range keep {
			if fd := usedFD[fdOf[g]]; len(rs) == 0 || rs[len(rs)-1].fd != fd {
				rs = append(rs, rng{i, fd})
			}
		}
		newSelect = append(newSelect, 3)
		newSelect = be.AppendUint16(newSelect, uint16(len(rs)))
		for _, r := range rs {
			newSelect = be.AppendUint16(newSelect, uint16(r.first))
			newSelect = append(newSelect, byte(r.fd))
		}
		newSelect = be.AppendUint16(newSelect, uint16(n))
	}
	strs := make([][]byte, n)
	keptFD := make([]int, n)
	for i, g := range keep {
		strs[i], keptFD[i] = charstrings[g], usedFD[fdOf[g]]
	}
	keptPrivs := make([]private, len(fds))
	locals := make([][][]byte, len(fds))
	for i, fd := range fds {
		keptPrivs[i], locals[i] = privs[fd], privs[fd].subrs
	}
	if ps, pg, pl, err := pruneSubrs(strs, keptFD, globals, locals); err == nil {
		strs, globals = ps, pg
		for i := range keptPrivs {
			keptPrivs[i] = keptPrivs[i].withSubrs(pl[i])
		}
	} else if !errors.Is(err, errKeepSubrs) {
		return nil, err
	}
	globalIdx := writeIndex(nil, globals)

	// Lay it out: every offset is a 5-byte integer, so the Top DICT's size
	// does not depend on them.
	topSet := map[int][]int{opCharset: {0}, opCharStrings: {0}}
	if cid {
		topSet[opFDSelect], topSet[opFDArray] = []int{0}, []int{0}
	} else {
		topSet[opPrivate] = []int{0, 0}
	}
	var topDict []dictEntry
	for _, e := range top {
		if e.op != opEncoding { // a cmap maps the characters
			topDict = append(topDict, e)
		}
	}
	if _, ok := find(topDict, opCharset); !ok {
		topDict = append(topDict, dictEntry{op: opCharset})
	}
	topLen := len(writeDict(topDict, topSet))
	nameIdx := writeIndex(nil, names)
	at := 4 + len(nameIdx) + indexLen([][]byte{make([]byte, topLen)}) + len(stringIdx) + len(globalIdx)
	charsetAt := at
	at += len(newCharset)
	selectAt := at
	at += len(newSelect)
	csAt := at
	at += indexLen(strs)

	var fdArray []byte
	var privBlob []byte
	privAt := 0
	if cid {
		dicts := make([][]byte, len(fds))
		for i, fd := range fds {
			dicts[i] = writeDict(fdDicts[fd], map[int][]int{opPrivate: {0, 0}})
		}
		arrayAt := at
		at += indexLen(dicts)
		for i, fd := range fds {
			dicts[i] = writeDict(fdDicts[fd], map[int][]int{opPrivate: {keptPrivs[i].dictLen(), at}})
			privBlob = keptPrivs[i].write(privBlob)
			at += keptPrivs[i].len()
		}
		fdArray = writeIndex(nil, dicts)
		topSet[opFDSelect], topSet[opFDArray] = []int{selectAt}, []int{arrayAt}
	} else {
		privAt = at
		privBlob = keptPrivs[0].write(nil)
		topSet[opPrivate] = []int{keptPrivs[0].dictLen(), privAt}
	}
	topSet[opCharset], topSet[opCharStrings] = []int{charsetAt}, []int{csAt}

	out := make([]byte, 0, at)
	out = append(out, 1, 0, 4, b[3])
	out = append(out, nameIdx...)
	out = writeIndex(out, [][]byte{writeDict(topDict, topSet)})
	out = append(out, stringIdx...)
	out = append(out, globalIdx...)
	out = append(out, newCharset...)
	out = append(out, newSelect...)
	out = writeIndex(out, strs)
	out = append(out, fdArray...)
	out = append(out, privBlob...)
	if len(out) > math.MaxInt32 {
		return nil, bad("CFF: too large")
	}
	return out, nil
}
