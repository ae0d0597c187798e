package fontsubset

import (
	"errors"
	"slices"
)

// Subroutines are most of what a CJK CFF font keeps besides its glyphs
// (Noto Sans CJK: 1.3 MB of local subroutines for 15 MB of glyphs), and a
// subset of a few thousand glyphs calls a fraction of them. pruneSubrs
// walks the kept glyphs' charstrings as a Type 2 interpreter would (stems,
// hint masks, calls, returns, endchar; not the outlines), keeps only the
// subroutines called, renumbers them and rewrites each call's index.
//
// The rewrite needs each call's index to be a number written in the
// charstring right before the call, as every font compiler does. A font
// that computes one (the rarely used arithmetic operators) or nests calls
// deeper than the format allows keeps all its subroutines.

// errKeepSubrs is pruneSubrs' answer for a font it cannot prune.
var errKeepSubrs = errors.New("subroutines cannot be pruned")

// subrBias is the number added to a call's operand to index n subroutines.
func subrBias(n int) int {
	switch {
	case n < 1240:
		return 107
	case n < 33900:
		return 1131
	}
	return 32768
}

// owner names a charstring: a glyph's (fd -1: the glyph's own, index the
// position in the glyphs given), a global subroutine's (fd -2) or a local
// one's (fd ≥ 0: that font dict's).
type owner struct{ fd, index int }

// callSite is where a charstring writes the index of a subroutine it
// calls.
type callSite struct {
	start, end int // the operand's bytes
	callee     owner
}

type operand struct {
	v          int
	literal    bool // an integer written as such (not a fixed-point number)
	at         owner
	start, end int
}

// walker interprets charstrings for their calls.
type walker struct {
	globals [][]byte
	locals  [][][]byte // by font dict
	stack   []operand
	stems   int
	sites   map[owner]map[int]callSite // by owner, by operand start
	// budget is how many more operators the glyph may run: a broken font
	// whose subroutines call each other many times over would otherwise
	// take exponential time.
	budget int
}

// glyphBudget is the most operators one glyph may run; real glyphs run
// hundreds.
const glyphBudget = 1 << 16

func (w *walker) code(o owner, glyphs [][]byte) []byte {
	switch {
	case o.fd == -1:
		return glyphs[o.index]
	case o.fd == -2:
		return w.globals[o.index]
	}
	return w.locals[o.fd][o.index]
}

// run interprets charstring o (of a glyph of font dict fd); done reports
// an endchar.
func (w *walker) run(o owner, fd int, glyphs [][]byte, depth int) (done bool, err error) {
	if depth > 10 {
		return false, errKeepSubrs
	}
	cs := w.code(o, glyphs)
	for i := 0; i < len(cs); {
		b0 := int(cs[i])
		switch {
		case b0 == 28:
			if i+3 > len(cs) {
				return false, bad("charstring: truncated number")
			}
			w.stack = append(w.stack, operand{int(int16(be.Uint16(cs[i+1:]))), true, o, i, i + 3})
			i += 3
			continue
		case b0 >= 32 && b0 <= 246:
			w.stack = append(w.stack, operand{b0 - 139, true, o, i, i + 1})
			i++
			continue
		case b0 >= 247 && b0 <= 254:
			if i+2 > len(cs) {
				return false, bad("charstring: truncated number")
			}
			v := (b0-247)*256 + int(cs[i+1]) + 108
			if b0 >= 251 {
				v = -(b0-251)*256 - int(cs[i+1]) - 108
			}
			w.stack = append(w.stack, operand{v, true, o, i, i + 2})
			i += 2
			continue
		case b0 == 255:
			if i+5 > len(cs) {
				return false, bad("charstring: truncated number")
			}
			w.stack = append(w.stack, operand{at: o, start: i, end: i + 5})
			i += 5
			continue
		}
		i++
		if w.budget--; w.budget < 0 {
			return false, bad("charstring: runs too long")
		}
		switch b0 {
		case 1, 3, 18, 23: // hstem, vstem, hstemhm, vstemhm
			w.stems += len(w.stack) / 2
			w.stack = w.stack[:0]
		case 19, 20: // hintmask, cntrmask: an implicit vstem, then the mask
			w.stems += len(w.stack) / 2
			w.stack = w.stack[:0]
			i += (w.stems + 7) / 8
		case 10, 29: // callsubr, callgsubr
			if len(w.stack) == 0 {
				return false, bad("charstring: call without an index")
			}
			top := w.stack[len(w.stack)-1]
			w.stack = w.stack[:len(w.stack)-1]
			if !top.literal {
				return false, errKeepSubrs
			}
			callee := owner{fd: -2}
			subrs := w.globals
			if b0 == 10 {
				if fd < 0 || fd >= len(w.locals) {
					return false, bad("charstring: local call without local subroutines")
				}
				callee.fd, subrs = fd, w.locals[fd]
			}
			callee.index = top.v + subrBias(len(subrs))
			if callee.index < 0 || callee.index >= len(subrs) {
				return false, bad("charstring: subroutine %d of %d", callee.index, len(subrs))
			}
			if w.sites[top.at] == nil {
				w.sites[top.at] = map[int]callSite{}
			}
			w.sites[top.at][top.start] = callSite{top.start, top.end, callee}
			if w.sites[callee] == nil {
				w.sites[callee] = map[int]callSite{} // called: kept
			}
			if done, err := w.run(callee, fd, glyphs, depth+1); done || err != nil {
				return done, err
			}
		case 11: // return
			return false, nil
		case 14: // endchar
			return true, nil
		case 12:
			if i >= len(cs) {
				return false, bad("charstring: escape at end")
			}
			op := cs[i]
			i++
			if op < 34 { // arithmetic, storage and conditional operators
				return false, errKeepSubrs
			}
			w.stack = w.stack[:0]
		default:
			w.stack = w.stack[:0]
		}
	}
	return false, nil
}

// pruneSubrs returns the glyphs' charstrings (of font dicts fdOf) and the
// global and local subroutines they call, renumbered, with every call
// rewritten; errKeepSubrs when the font must keep them as they are.
func pruneSubrs(glyphs [][]byte, fdOf []int, globals [][]byte, locals [][][]byte) (newGlyphs, newGlobals [][]byte, newLocals [][][]byte, err error) {
	w := &walker{globals: globals, locals: locals, sites: map[owner]map[int]callSite{}}
	for i := range glyphs {
		w.stack, w.stems, w.budget = w.stack[:0], 0, glyphBudget
		if _, err := w.run(owner{-1, i}, fdOf[i], glyphs, 0); err != nil {
			return nil, nil, nil, err
		}
	}
	// The called subroutines, in their order, numbered anew.
	renum := map[owner]int{}
	newGlobals, oldGlobals := keptSubrs(w, -2, globals, renum)
	newLocals = make([][][]byte, len(locals))
	oldLocals := make([][]int, len(locals))
	for fd, subrs := range locals {
		newLocals[fd], oldLocals[fd] = keptSubrs(w, fd, subrs, renum)
	}
	rewrite := func(o owner, cs []byte) []byte {
		sites := w.sites[o]
		if len(sites) == 0 {
			return cs
		}
		starts := make([]int, 0, len(sites))
		for s := range sites {
			starts = append(starts, s)
		}
		slices.Sort(starts)
		out := make([]byte, 0, len(cs)+2*len(starts))
		last := 0
		for _, s := range starts {
			site := sites[s]
			n := len(newGlobals)
			if site.callee.fd >= 0 {
				n = len(newLocals[site.callee.fd])
			}
			out = append(out, cs[last:site.start]...)
			out = appendNumber(out, renum[site.callee]-subrBias(n))
			last = site.end
		}
		return append(out, cs[last:]...)
	}
	newGlyphs = make([][]byte, len(glyphs))
	for i, cs := range glyphs {
		newGlyphs[i] = rewrite(owner{-1, i}, cs)
	}
	for i, cs := range newGlobals {
		newGlobals[i] = rewrite(owner{-2, oldGlobals[i]}, cs)
	}
	for fd := range newLocals {
		for i, cs := range newLocals[fd] {
			newLocals[fd][i] = rewrite(owner{fd, oldLocals[fd][i]}, cs)
		}
	}
	return newGlyphs, newGlobals, newLocals, nil
}

// keptSubrs returns the subroutines of fd (-2: the global ones) that were
// called, in order, with their old numbers, and numbers them in renum.
func keptSubrs(w *walker, fd int, subrs [][]byte, renum map[owner]int) (kept [][]byte, old []int) {
	for i, cs := range subrs {
		if _, called := w.sites[owner{fd, i}]; called {
			renum[owner{fd, i}] = len(kept)
			kept, old = append(kept, cs), append(old, i)
		}
	}
	return kept, old
}

// appendNumber writes v as a Type 2 charstring integer.
func appendNumber(out []byte, v int) []byte {
	switch {
	case v >= -107 && v <= 107:
		return append(out, byte(v+139))
	case v >= 108 && v <= 1131:
		v -= 108
		return append(out, byte(v/256+247), byte(v%256))
	case v >= -1131 && v <= -108:
		v = -v - 108
		return append(out, byte(v/256+251), byte(v%256))
	}
	return append(out, 28, byte(v>>8), byte(v))
}
