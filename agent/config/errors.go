package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors wrapped by some *Error values, for callers and tests that
// care about the kind of problem rather than its wording.
var (
	// ErrRequired is wrapped when a required field is missing or empty.
	ErrRequired = errors.New("required")
	// ErrUnknownKey is wrapped when the file holds a key this version does
	// not know, usually a misspelling that would otherwise be ignored.
	ErrUnknownKey = errors.New("unknown key")
	// ErrSyntax is wrapped when the file is not well-formed YAML.
	ErrSyntax = errors.New("invalid YAML")
)

// Error is one problem with a configuration file. When a file has several
// problems, Load and Parse return them all joined with errors.Join:
// errors.As reaches the first, and Errors lists them all. No Error ever
// carries secret material.
type Error struct {
	// File is the path given to Load, or "" for Parse.
	File string
	// Field is the dotted YAML path of the offending key, such as
	// "platform.app_secret", or "" when the problem is the file as a whole.
	Field string
	// Line is the 1-based line of the key in the file, or 0 when unknown.
	Line int
	// Err says what is wrong.
	Err error
}

// Error formats the problem as "file:line: field: reason", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid")
	}
	return b.String()
}

// Unwrap returns the underlying reason.
func (e *Error) Unwrap() error { return e.Err }

// Errors returns every *Error inside err, which is what Load or Parse
// returned: one *Error, a join of several, or nil.
func Errors(err error) []*Error {
	switch e := err.(type) {
	case nil:
		return nil
	case *Error:
		return []*Error{e}
	case interface{ Unwrap() []error }:
		var out []*Error
		for _, inner := range e.Unwrap() {
			out = append(out, Errors(inner)...)
		}
		return out
	}
	var ce *Error
	if errors.As(err, &ce) {
		return []*Error{ce}
	}
	return nil
}

// problems collects the errors of one Parse so that a technician sees every
// mistake in one run instead of fixing them one by one.
type problems struct {
	file  string
	lines map[string]int
	errs  []error
}

func (p *problems) add(field string, err error) {
	p.errs = append(p.errs, &Error{File: p.file, Field: field, Line: p.lines[field], Err: err})
}

func (p *problems) addf(field, format string, args ...any) {
	p.add(field, fmt.Errorf(format, args...))
}

// err returns nil, the single *Error, or a join of them all.
func (p *problems) err() error {
	switch len(p.errs) {
	case 0:
		return nil
	case 1:
		return p.errs[0]
	default:
		return errors.Join(p.errs...)
	}
}
