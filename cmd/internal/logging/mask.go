package logging

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/campuspos/kiosk/agent"
)

// Redacted replaces the value of every attribute whose key names a secret;
// it is what config.Secrets prints too.
const Redacted = "[redacted]"

// Mask wraps h so that what reaches it holds no card number, account, name
// or secret in the clear, whichever way the attribute arrived: on the
// record, through Logger.With, inside a group (slog.Group or
// Logger.WithGroup), or as a struct of this module's types.
//
// The attribute's key decides, word by word ("card_id", "cardId", "CardID"
// and "card-id" are alike; so are "sno" and "s_no"):
//   - a secret, when any word is one (token, secret, password, pwd, pin,
//     key, authorization…, or ends in token, secret, password or key):
//     the value, of any kind, group included, becomes Redacted;
//   - a card number, when a word is one (account, acc, card, cardid,
//     cardno, barcode, idno, cert, phone, mobile, sno, bankacc…), unless
//     the key's last word (other than id, no, num, number or a number)
//     names a property of the card rather than its number: "card_type",
//     "max_per_card_day", "card_lost" are left alone, "refund_account"
//     and "barcode_bytes" are masked with agent.MaskAccount, which keeps
//     the last four characters;
//   - a name, by the same rule (name, custname, realname, username,
//     holder…): agent.MaskName, which keeps the first character.
//
// Inside a group so named (slog.Group("card", "id", …), WithGroup("token"))
// the group's class also covers the generic keys id, no, num, number and
// value, and a secret group's every leaf. A struct or pointer to struct of
// this module's packages (or of no package: a literal struct), a map with
// string keys, and a slice or array of either are logged as a group of
// their fields, entries or elements, so that the same rules reach inside
// them; a struct type's name counts as the group's name, any word of it,
// which covers agent.Token's Value, agent.Identity's ID and onecard.CardQuery's ID. Types that
// chose their own rendering (error, fmt.Stringer, encoding.TextMarshaler,
// json.Marshaler, slog.LogValuer) keep it.
//
// Records that need no masking reach h as they are, without a copy.
func Mask(h slog.Handler) slog.Handler {
	if m, ok := h.(*maskHandler); ok {
		return m
	}
	return &maskHandler{inner: h}
}

type maskHandler struct {
	inner slog.Handler
	// group is the class of the innermost WithGroup name that has one.
	group class
}

func (h *maskHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *maskHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked, _ := maskAttrs(h.group, attrs, 0)
	return &maskHandler{inner: h.inner.WithAttrs(masked), group: h.group}
}

func (h *maskHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &maskHandler{inner: h.inner.WithGroup(name), group: groupClass(h.group, name)}
}

func (h *maskHandler) Handle(ctx context.Context, r slog.Record) error {
	// One pass, and a copy only from the first attribute that changes:
	// most records (an order's life, a call) need none.
	var out []slog.Attr
	i := 0
	r.Attrs(func(a slog.Attr) bool {
		m, changed := maskAttr(h.group, a, 0)
		if changed && out == nil {
			out = make([]slog.Attr, 0, r.NumAttrs())
			r.Attrs(func(b slog.Attr) bool {
				if len(out) == i {
					return false
				}
				out = append(out, b)
				return true
			})
		}
		if out != nil {
			out = append(out, m)
		}
		i++
		return true
	})
	if out == nil {
		return h.inner.Handle(ctx, r)
	}
	masked := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	masked.AddAttrs(out...)
	return h.inner.Handle(ctx, masked)
}

// class is what a key says of its value, in increasing order of care.
type class uint8

const (
	plain class = iota
	personName
	cardNumber
	secret
)

// maxDepth bounds the walk into groups and structs, against a pointer
// cycle; what lies deeper is redacted rather than risked.
const maxDepth = 8

// maskAttrs masks each of attrs in a group of class group; it returns attrs
// itself when nothing changed.
func maskAttrs(group class, attrs []slog.Attr, depth int) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range attrs {
		m, changed := maskAttr(group, a, depth)
		if changed && out == nil {
			out = append(make([]slog.Attr, 0, len(attrs)), attrs[:i]...)
		}
		if out != nil {
			out = append(out, m)
		}
	}
	if out == nil {
		return attrs, false
	}
	return out, true
}

// maskAttr masks a, found in a group of class group, and reports whether it
// changed.
func maskAttr(group class, a slog.Attr, depth int) (slog.Attr, bool) {
	if depth > maxDepth {
		return slog.String(a.Key, Redacted), true
	}
	cls := leafClass(group, a.Key)
	if cls == secret {
		return slog.String(a.Key, Redacted), true
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		attrs, changed := maskAttrs(groupClass(group, a.Key), v.Group(), depth+1)
		if !changed {
			return a, false
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(attrs...)}, true
	case slog.KindAny:
		if fields, typ, ok := asGroup(v.Any()); ok {
			g := groupClass(group, a.Key)
			if typ != plain && g != secret {
				g = typ
			}
			if g == secret {
				return slog.String(a.Key, Redacted), true
			}
			attrs, _ := maskAttrs(g, fields, depth+1)
			return slog.Attr{Key: a.Key, Value: slog.GroupValue(attrs...)}, true
		}
	}
	var mask func(string) string
	switch cls {
	case cardNumber:
		mask = agent.MaskAccount
	case personName:
		mask = agent.MaskName
	default:
		return a, false
	}
	var s string
	switch v.Kind() {
	case slog.KindString:
		s = v.String()
	case slog.KindInt64, slog.KindUint64:
		s = v.String()
	case slog.KindAny:
		if b, ok := v.Any().([]byte); ok {
			s = string(b)
			break
		}
		if list, ok := maskList(v.Any(), mask); ok {
			return slog.Any(a.Key, list), true
		}
		s = fmt.Sprint(v.Any())
	default:
		// Bools, floats, durations and times carry no number to hide.
		return a, false
	}
	m := mask(s)
	if m == s && v.Kind() != slog.KindAny {
		return a, false
	}
	return slog.String(a.Key, m), true
}

// maskList masks each element of a slice or array ("accounts": [...]) so
// that each keeps its last characters, not only the list's.
func maskList(v any, mask func(string) string) ([]string, bool) {
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); k != reflect.Slice && k != reflect.Array || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	out := make([]string, rv.Len())
	for i := range out {
		out[i] = mask(fmt.Sprint(rv.Index(i).Interface()))
	}
	return out, true
}

// leafClass is the class of a value under key in a group of class group.
func leafClass(group class, key string) class {
	if group == secret {
		return secret
	}
	if c := classify(key); c != plain {
		return c
	}
	if group != plain && generic(key) {
		return group
	}
	return plain
}

// groupClass is the class of a group named key inside one of class
// parent: its own if its name has one, else its parent's.
func groupClass(parent class, key string) class {
	if parent == secret {
		return secret
	}
	if c := classify(key); c != plain {
		return c
	}
	return parent
}

// classify is the class of key: secret if any of its words names a
// secret; else that of its head, the last word other than a generic one
// (id, no, a number), when the head has one ("holder_name"); else plain
// when the head says the value is a property of the card rather than its
// number ("card_type", "max_per_card_day", "account_count"); else that of
// its most sensitive word, or of its words run together ("s_no" is "sno"),
// since a value named for a card and qualified in a way not known to be
// harmless ("barcode_bytes") is taken to be the number.
func classify(key string) class {
	anyWord, head, harmless := classes(key)
	switch {
	case anyWord == secret:
		return secret
	case head != plain:
		return head
	case harmless:
		return plain
	}
	return anyWord
}

// typeClass is the class of a struct type's name: that of its most
// sensitive word, since a type names what its fields describe
// (onecard.CardQuery's ID is a card's).
func typeClass(name string) class {
	anyWord, _, _ := classes(name)
	return anyWord
}

// classes returns the class of key's most sensitive word (or its words
// run together) and that of its head, and whether the head is a harmless
// property (see classify).
func classes(key string) (anyWord, head class, harmless bool) {
	var joined [maxWord]byte
	n, words := 0, 0
	for i := 0; i < len(key); {
		start, end := nextWord(key, i)
		if start == end {
			break
		}
		w := key[start:end]
		c := classifyWord(w)
		anyWord, words = max(anyWord, c), words+1
		if !generic(w) {
			head, harmless = c, property(w)
		}
		if n >= 0 && n+len(w) <= maxWord {
			n += copy(joined[n:], w)
		} else {
			n = -1
		}
		i = end
	}
	if words > 1 && n > 0 {
		anyWord = max(anyWord, classifyWord(string(joined[:n])))
	}
	return anyWord, head, harmless
}

// property reports whether w, a key's head, names a property of a card
// or an account rather than its number or its holder.
func property(w string) bool {
	for _, p := range [...]string{"type", "kind", "count", "total", "amount", "amt", "balance", "limit", "max", "min",
		"day", "days", "date", "age", "time", "at", "lost", "frozen", "state", "status", "flag", "enabled", "expired",
		"valid", "seen", "len", "length"} {
		if strings.EqualFold(w, p) {
			return true
		}
	}
	return false
}

// generic reports whether key is a word that means nothing by itself but
// takes the class of the group it is in ("card.id"), or a number
// ("card2").
func generic(key string) bool {
	if strings.IndexFunc(key, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		return true
	}
	for _, g := range [...]string{"id", "no", "num", "number", "value"} {
		if strings.EqualFold(key, g) {
			return true
		}
	}
	return false
}

// maxWord is the longest word classified; no key word of interest comes
// near it, and a fixed buffer keeps classifying free of allocations.
const maxWord = 48

// classifyWord is the class of one word of a key, in any case.
func classifyWord(w string) class {
	if len(w) > maxWord {
		return plain
	}
	var buf [maxWord]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	lw := buf[:len(w)]
	switch string(lw) {
	case "secrets", "pwd", "pin", "pinhash", "authorization", "auth", "bearer", "cookie", "credential", "credentials", "passphrase":
		return secret
	case "account", "accounts", "acc", "accno", "card", "cards", "identity", "identities", "cardid", "cardno", "cardnum", "idcard", "barcode",
		"idno", "cert", "certno", "phone", "mobile", "sno", "bankacc", "bankcard":
		return cardNumber
	case "name", "names", "custname", "realname", "username", "holder", "cardholder":
		return personName
	}
	for _, suffix := range [...]string{"token", "secret", "password", "passwd", "key"} {
		if len(lw) >= len(suffix) && string(lw[len(lw)-len(suffix):]) == suffix {
			return secret
		}
	}
	return plain
}

// nextWord returns the bounds of the first word of key at or after i:
// a run of letters and digits, split where a lower-case letter meets an
// upper-case one ("outId"), before the last capital of an acronym
// ("IDType") and between letters and digits ("card2").
func nextWord(key string, i int) (start, end int) {
	for i < len(key) && !wordByte(key[i]) {
		i++
	}
	start = i
	for i++; i < len(key) && wordByte(key[i]); i++ {
		prev, cur := key[i-1], key[i]
		switch {
		case lower(prev) && upper(cur),
			digit(prev) != digit(cur),
			upper(prev) && upper(cur) && i+1 < len(key) && lower(key[i+1]):
			return start, i
		}
	}
	return start, min(i, len(key))
}

func wordByte(c byte) bool { return lower(c) || upper(c) || digit(c) || c >= 0x80 }
func lower(c byte) bool    { return 'a' <= c && c <= 'z' }
func upper(c byte) bool    { return 'A' <= c && c <= 'Z' }
func digit(c byte) bool    { return '0' <= c && c <= '9' }

// snake turns a Go field name into the log's key style: OutID → out_id.
func snake(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); {
		start, end := nextWord(name, i)
		if start == end {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('_')
		}
		b.WriteString(strings.ToLower(name[start:end]))
		i = end
	}
	return b.String()
}

// modulePath is this module's import path: its structs are the ones known
// to hold card data under field names the key rules understand.
const modulePath = "github.com/campuspos/kiosk"

// asGroup returns v's fields or entries as attributes when v is a struct
// (or pointer to one) of this module or of no package, a map with string
// keys, or a slice or array of either; typ is the class of the struct
// type's name.
func asGroup(v any) (attrs []slog.Attr, typ class, ok bool) {
	switch v.(type) {
	case error, fmt.Stringer, encoding.TextMarshaler, json.Marshaler, slog.LogValuer:
		return nil, plain, false
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, plain, false
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Struct:
		t := rv.Type()
		if !ours(t) {
			return nil, plain, false
		}
		attrs = make([]slog.Attr, 0, t.NumField())
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				attrs = append(attrs, slog.Any(snake(f.Name), rv.Field(i).Interface()))
			}
		}
		return attrs, typeClass(t.Name()), true
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, plain, false
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		attrs = make([]slog.Attr, 0, len(keys))
		for _, k := range keys {
			attrs = append(attrs, slog.Any(k.String(), rv.MapIndex(k).Interface()))
		}
		return attrs, plain, true
	case reflect.Slice, reflect.Array:
		if !groupable(rv) {
			return nil, plain, false
		}
		attrs = make([]slog.Attr, 0, rv.Len())
		for i := range rv.Len() {
			attrs = append(attrs, slog.Any(strconv.Itoa(i), rv.Index(i).Interface()))
		}
		return attrs, plain, true
	}
	return nil, plain, false
}

// ours reports whether t is a struct type of this module or an unnamed one.
func ours(t reflect.Type) bool {
	p := t.PkgPath()
	return t.Name() == "" || p == modulePath || strings.HasPrefix(p, modulePath+"/")
}

// groupable reports whether asGroup turns the elements of the slice or
// array rv into groups: those of a type it turns into groups, or, in a
// []any, at least one.
func groupable(rv reflect.Value) bool {
	t := rv.Type().Elem()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return ours(t)
	case reflect.Map:
		return t.Key().Kind() == reflect.String
	case reflect.Interface:
		for i := range rv.Len() {
			if _, _, ok := asGroup(rv.Index(i).Interface()); ok {
				return true
			}
		}
	}
	return false
}
