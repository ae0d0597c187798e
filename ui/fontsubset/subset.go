// Package fontsubset cuts a small standalone font out of a TrueType or
// OpenType font, or one face of a font collection: only the glyphs of the
// characters asked for (renumbered from 1, after .notdef), their
// horizontal metrics and a character map of just those characters.
//
// It exists for memory. Text libraries such as go-text copy every table
// of a font they parse into memory, and a Chinese font is 15–20 MB of
// glyphs, of which a kiosk shows a few thousand. A subset of the 7,445
// characters of GB 2312 cut from Noto Sans CJK SC is about 2 MB.
//
// What the subset keeps: the glyph outlines exactly (CFF charstrings with
// every subroutine they call, or TrueType glyphs with the glyphs they are
// composed of), advances and side bearings, the font's names, its line
// metrics and its TrueType hinting programs. What it leaves out: vertical
// metrics, glyph names, and the layout tables (GSUB, GPOS, GDEF, BASE,
// kern), whose glyph references would have to be rewritten; horizontal
// Chinese text is drawn with each character's default glyph, which needs
// none of them.
package fontsubset

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/font/opentype/tables"
)

// Request says what to cut.
type Request struct {
	// Face is the face of a collection to cut (0 for a single font).
	Face int
	// Runes are the characters to keep; those the face has no glyph for
	// are passed over (Font.Runes says which were kept).
	Runes []rune
	// Replace gives tables to use instead of the face's own, by tag
	// ("hhea", "OS/2", …); they are patched for the subset like the
	// originals (the number of glyphs and metrics).
	Replace map[string][]byte
}

// Font is a cut font.
type Font struct {
	// Data is the standalone font (OpenType with CFF outlines, or
	// TrueType).
	Data []byte
	// Runes are the characters it maps, sorted.
	Runes []rune
	// Glyphs is how many glyphs it has, .notdef included.
	Glyphs int
}

// FormatError says what is wrong with a font that cannot be cut.
type FormatError struct {
	// What names the part of the font and what is wrong with it.
	What string
}

func (e *FormatError) Error() string { return "font: " + e.What }

func bad(format string, args ...any) error {
	return &FormatError{What: fmt.Sprintf(format, args...)}
}

var be = binary.BigEndian

// Faces returns how many faces src holds: the count of a collection, 1
// for a single font.
func Faces(src []byte) (int, error) {
	if len(src) < 12 {
		return 0, bad("truncated header")
	}
	if string(src[:4]) != "ttcf" {
		return 1, nil
	}
	n := int(be.Uint32(src[8:]))
	if n < 1 || len(src) < 12+4*n {
		return 0, bad("collection header out of range (%d faces)", n)
	}
	return n, nil
}

// Tables returns the tables of face idx of src, by tag, as slices of src.
func Tables(src []byte, idx int) (map[string][]byte, error) {
	n, err := Faces(src)
	if err != nil {
		return nil, err
	}
	if idx < 0 || idx >= n {
		return nil, bad("no face %d (the file has %d)", idx, n)
	}
	off := 0
	if string(src[:4]) == "ttcf" {
		off = int(be.Uint32(src[12+4*idx:]))
	}
	if off < 0 || off+12 > len(src) {
		return nil, bad("face %d: offset out of range", idx)
	}
	switch v := be.Uint32(src[off:]); v {
	case 0x00010000, 0x4f54544f, 0x74727565: // TrueType, 'OTTO', 'true'
	default:
		return nil, bad("face %d: unknown font version %#08x", idx, v)
	}
	numTables := int(be.Uint16(src[off+4:]))
	if off+12+16*numTables > len(src) {
		return nil, bad("face %d: table directory out of range", idx)
	}
	out := make(map[string][]byte, numTables)
	for i := range numTables {
		rec := src[off+12+16*i:]
		tOff, tLen := int64(be.Uint32(rec[8:])), int64(be.Uint32(rec[12:]))
		if tOff+tLen > int64(len(src)) {
			return nil, bad("table %q out of range", rec[:4])
		}
		out[string(rec[:4])] = src[tOff : tOff+tLen]
	}
	return out, nil
}

// Cmap reads a face's character map. (go-text's reader panics on some
// malformed maps; that comes back as a FormatError too.)
func Cmap(t map[string][]byte) (_ font.Cmap, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = bad("character map unreadable (%v)", p)
		}
	}()
	raw, ok := t["cmap"]
	if !ok {
		return nil, bad("no character map ('cmap')")
	}
	cm, _, err := tables.ParseCmap(raw)
	if err != nil {
		return nil, bad("character map: %v", err)
	}
	cmap, _, err := font.ProcessCmap(cm, tables.FPNone)
	if err != nil {
		return nil, bad("character map: %v", err)
	}
	return cmap, nil
}

// Cut cuts the subset req asks for out of src.
func Cut(src []byte, req Request) (Font, error) {
	t, err := Tables(src, req.Face)
	if err != nil {
		return Font{}, err
	}
	for tag, tb := range req.Replace {
		t[tag] = tb
	}
	for _, tag := range []string{"head", "hhea", "hmtx", "maxp"} {
		if _, ok := t[tag]; !ok {
			return Font{}, bad("no %q table", tag)
		}
	}
	head, hhea, maxp := t["head"], t["hhea"], t["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 {
		return Font{}, bad("head, hhea or maxp table truncated")
	}
	numGlyphs := int(be.Uint16(maxp[4:]))
	cmap, err := Cmap(t)
	if err != nil {
		return Font{}, err
	}

	// The glyphs: .notdef, then those of the characters, by old number.
	runes := slices.Clone(req.Runes)
	slices.Sort(runes)
	runes = slices.Compact(runes)
	oldOf := map[rune]int{}
	keep := []int{0}
	for _, r := range runes {
		g, ok := cmap.Lookup(r)
		if !ok || g == 0 {
			continue
		}
		if int(g) >= numGlyphs {
			return Font{}, bad("character map: U+%04X maps to glyph %d of %d", r, g, numGlyphs)
		}
		oldOf[r] = int(g)
		keep = append(keep, int(g))
	}

	out := map[string][]byte{}
	switch {
	case t["CFF "] != nil:
		slices.Sort(keep)
		keep = slices.Compact(keep)
		if out["CFF "], err = cutCFF(t["CFF "], keep, numGlyphs); err != nil {
			return Font{}, err
		}
	case t["glyf"] != nil && t["loca"] != nil:
		g, err := newGlyf(t["glyf"], t["loca"], int16(be.Uint16(head[50:])), numGlyphs)
		if err != nil {
			return Font{}, err
		}
		if keep, err = g.closure(keep); err != nil {
			return Font{}, err
		}
		if out["glyf"], out["loca"], err = g.cut(keep); err != nil {
			return Font{}, err
		}
	default:
		return Font{}, bad("no outlines this cutter reads (CFF, or glyf with loca)")
	}
	newOf := make(map[int]int, len(keep))
	for i, g := range keep {
		newOf[g] = i
	}

	out["cmap"] = cmap12(runes, oldOf, newOf)
	if out["hmtx"], err = cutHmtx(t["hmtx"], int(be.Uint16(hhea[34:])), numGlyphs, keep); err != nil {
		return Font{}, err
	}
	out["head"] = slices.Clone(head)
	if t["glyf"] != nil {
		be.PutUint16(out["head"][50:], 1) // long 'loca' offsets
	}
	out["hhea"] = slices.Clone(hhea)
	be.PutUint16(out["hhea"][34:], uint16(len(keep)))
	out["maxp"] = slices.Clone(maxp)
	be.PutUint16(out["maxp"][4:], uint16(len(keep)))
	if post := t["post"]; len(post) >= 32 {
		out["post"] = slices.Clone(post[:32])
		be.PutUint32(out["post"], 0x00030000) // no glyph names
	}
	for _, tag := range []string{"OS/2", "name", "cvt ", "fpgm", "prep", "gasp"} {
		if tb, ok := t[tag]; ok {
			out[tag] = tb
		}
	}
	kept := make([]rune, 0, len(oldOf))
	for _, r := range runes {
		if _, ok := oldOf[r]; ok {
			kept = append(kept, r)
		}
	}
	return Font{Data: assemble(out, t["CFF "] != nil), Runes: kept, Glyphs: len(keep)}, nil
}

// cutHmtx returns the metrics of the kept glyphs, each a full
// (advance, side bearing) pair.
func cutHmtx(hmtx []byte, numMetrics, numGlyphs int, keep []int) ([]byte, error) {
	if numMetrics < 1 || numMetrics > numGlyphs || len(hmtx) < 4*numMetrics+2*(numGlyphs-numMetrics) {
		return nil, bad("hmtx: %d bytes for %d metrics of %d glyphs", len(hmtx), numMetrics, numGlyphs)
	}
	out := make([]byte, 4*len(keep))
	for i, g := range keep {
		var adv, lsb uint16
		if g < numMetrics {
			adv, lsb = be.Uint16(hmtx[4*g:]), be.Uint16(hmtx[4*g+2:])
		} else {
			adv, lsb = be.Uint16(hmtx[4*(numMetrics-1):]), be.Uint16(hmtx[4*numMetrics+2*(g-numMetrics):])
		}
		be.PutUint16(out[4*i:], adv)
		be.PutUint16(out[4*i+2:], lsb)
	}
	return out, nil
}

// cmap12 writes a character map: one format 12 subtable (every Unicode
// plane) under both the Unicode and the Windows encodings, from runes
// (sorted) through their old glyphs to the new ones.
func cmap12(runes []rune, oldOf map[rune]int, newOf map[int]int) []byte {
	type group struct {
		first, last rune
		glyph       int
	}
	var groups []group
	for _, r := range runes {
		old, ok := oldOf[r]
		if !ok {
			continue
		}
		g := newOf[old]
		if n := len(groups); n > 0 && r == groups[n-1].last+1 && g == groups[n-1].glyph+int(r-groups[n-1].first) {
			groups[n-1].last = r
			continue
		}
		groups = append(groups, group{r, r, g})
	}
	const head = 4 + 2*8 // version, number of encodings, two encoding records
	out := make([]byte, head+16+12*len(groups))
	be.PutUint16(out[2:], 2)
	for i, enc := range [][2]uint16{{0, 4}, {3, 10}} { // Unicode full repertoire; Windows UCS-4
		rec := out[4+8*i:]
		be.PutUint16(rec, enc[0])
		be.PutUint16(rec[2:], enc[1])
		be.PutUint32(rec[4:], head)
	}
	sub := out[head:]
	be.PutUint16(sub, 12)
	be.PutUint32(sub[4:], uint32(len(sub)))
	be.PutUint32(sub[12:], uint32(len(groups)))
	for i, g := range groups {
		rec := sub[16+12*i:]
		be.PutUint32(rec, uint32(g.first))
		be.PutUint32(rec[4:], uint32(g.last))
		be.PutUint32(rec[8:], uint32(g.glyph))
	}
	return out
}

// assemble writes the tables as one font: the table directory (sorted by
// tag, as the format asks), then each table 4-byte aligned. The tables'
// checksums are computed; the font-wide checksum adjustment in 'head' is
// not, which no renderer checks.
func assemble(t map[string][]byte, cff bool) []byte {
	tags := make([]string, 0, len(t))
	size := 0
	for tag, tb := range t {
		tags = append(tags, tag)
		size += (len(tb) + 3) &^ 3
	}
	slices.Sort(tags)
	dirLen := 12 + 16*len(tags)
	out := make([]byte, dirLen, dirLen+size)
	if cff {
		copy(out, "OTTO")
	} else {
		be.PutUint32(out, 0x00010000)
	}
	n := len(tags)
	be.PutUint16(out[4:], uint16(n))
	pow := 1
	for pow*2 <= n {
		pow *= 2
	}
	log2 := 0
	for 1<<log2 < pow {
		log2++
	}
	be.PutUint16(out[6:], uint16(16*pow))
	be.PutUint16(out[8:], uint16(log2))
	be.PutUint16(out[10:], uint16(16*n-16*pow))
	for i, tag := range tags {
		tb := t[tag]
		rec := out[12+16*i:]
		copy(rec, tag)
		be.PutUint32(rec[4:], checksum(tb))
		be.PutUint32(rec[8:], uint32(len(out)))
		be.PutUint32(rec[12:], uint32(len(tb)))
		out = append(out, tb...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

// checksum is an OpenType table checksum: the sum of its big-endian
// 32-bit words, the last one padded with zeros.
func checksum(table []byte) uint32 {
	var sum uint32
	for i := 0; i < len(table); i += 4 {
		var w [4]byte
		copy(w[:], table[i:])
		sum += be.Uint32(w[:])
	}
	return sum
}
