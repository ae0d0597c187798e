package fontsubset

import (
	"slices"
)

// glyf is a TrueType font's outlines: each glyph's bytes in 'glyf', found
// through 'loca'.
type glyf struct {
	data   []byte
	starts []int // numGlyphs+1 offsets into data
}

func newGlyf(data, loca []byte, format int16, numGlyphs int) (*glyf, error) {
	starts := make([]int, numGlyphs+1)
	switch format {
	case 0:
		if len(loca) < 2*(numGlyphs+1) {
			return nil, bad("loca: %d bytes for %d glyphs", len(loca), numGlyphs)
		}
		for i := range starts {
			starts[i] = 2 * int(be.Uint16(loca[2*i:]))
		}
	case 1:
		if len(loca) < 4*(numGlyphs+1) {
			return nil, bad("loca: %d bytes for %d glyphs", len(loca), numGlyphs)
		}
		for i := range starts {
			starts[i] = int(be.Uint32(loca[4*i:]))
		}
	default:
		return nil, bad("head: unknown loca format %d", format)
	}
	for i := range numGlyphs {
		if starts[i] > starts[i+1] || starts[i+1] > len(data) {
			return nil, bad("glyph %d: out of range", i)
		}
	}
	return &glyf{data: data, starts: starts}, nil
}

func (g *glyf) glyph(i int) []byte { return g.data[g.starts[i]:g.starts[i+1]] }

// Composite glyph flags.
const (
	argsAreWords   = 0x0001
	haveScale      = 0x0008
	moreComponents = 0x0020
	haveXYScale    = 0x0040
	haveTwoByTwo   = 0x0080
)

// components calls fn with the offset (in the glyph's bytes) of each
// component's glyph number, for a composite glyph; nothing for a simple
// one.
func components(b []byte, fn func(at int) error) error {
	if len(b) < 10 || int16(be.Uint16(b)) >= 0 {
		return nil
	}
	at := 10
	for {
		if at+4 > len(b) {
			return bad("composite glyph truncated")
		}
		flags := be.Uint16(b[at:])
		if err := fn(at + 2); err != nil {
			return err
		}
		at += 4
		if flags&argsAreWords != 0 {
			at += 4
		} else {
			at += 2
		}
		switch {
		case flags&haveScale != 0:
			at += 2
		case flags&haveXYScale != 0:
			at += 4
		case flags&haveTwoByTwo != 0:
			at += 8
		}
		if flags&moreComponents == 0 {
			return nil
		}
	}
}

// closure adds to keep the glyphs its composite glyphs are made of, and
// returns it sorted.
func (g *glyf) closure(keep []int) ([]int, error) {
	seen := map[int]bool{}
	todo := slices.Clone(keep)
	for len(todo) > 0 {
		i := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		err := components(g.glyph(i), func(at int) error {
			c := int(be.Uint16(g.glyph(i)[at:]))
			if c >= len(g.starts)-1 {
				return bad("glyph %d: component %d out of range", i, c)
			}
			todo = append(todo, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	slices.Sort(out)
	return out, nil
}

// cut returns the 'glyf' and long-format 'loca' tables of the kept glyphs
// (sorted, a closure), with composite glyphs' components renumbered.
func (g *glyf) cut(keep []int) (glyfOut, loca []byte, err error) {
	newOf := make(map[int]int, len(keep))
	size := 0
	for i, old := range keep {
		newOf[old] = i
		size += (len(g.glyph(old)) + 3) &^ 3
	}
	glyfOut = make([]byte, 0, size)
	loca = make([]byte, 4*(len(keep)+1))
	for i, old := range keep {
		be.PutUint32(loca[4*i:], uint32(len(glyfOut)))
		start := len(glyfOut)
		glyfOut = append(glyfOut, g.glyph(old)...)
		b := glyfOut[start:]
		if err := components(b, func(at int) error {
			be.PutUint16(b[at:], uint16(newOf[int(be.Uint16(b[at:]))]))
			return nil
		}); err != nil {
			return nil, nil, err
		}
		for len(glyfOut)%4 != 0 {
			glyfOut = append(glyfOut, 0)
		}
	}
	be.PutUint32(loca[4*len(keep):], uint32(len(glyfOut)))
	return glyfOut, loca, nil
}
