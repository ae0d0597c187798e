package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pagePath is the page that states the rules, from the module root.
const pagePath = "docs/ARCHITECTURE.md"

// rulesHeading opens the rules section; the next "## " heading ends it.
const rulesHeading = "## Import rules"

// verb says how far a rule looks.
type verb string

const (
	// mustNotImport: the subject's own import declarations (test files
	// excluded).
	mustNotImport verb = "import"
	// mustNotDependOn: everything the subject links, transitively.
	mustNotDependOn verb = "depend on"
)

// rule is one line of the rules section.
type rule struct {
	Line    int    // line number in the page
	Text    string // the line as written, for messages
	Target  string // the target marker's note ("issue 12, not yet true"), "" for a rule of today
	Subject string
	Verb    verb
	Forbid  []string
	Except  []string
}

var (
	ruleRe   = regexp.MustCompile("^`([^`]+)` must not (import|depend on): (.+)$")
	targetRe = regexp.MustCompile(`^\*\*target \(([^)]+)\):\*\*\s+`)
	listRe   = regexp.MustCompile("^`[^`]+`(, `[^`]+`)*$")
	itemRe   = regexp.MustCompile("`([^`]+)`")
)

// parseRule parses one bullet of the rules section, without its "- ".
func parseRule(s string) (rule, error) {
	var r rule
	if m := targetRe.FindStringSubmatch(s); m != nil {
		r.Target = m[1]
		s = s[len(m[0]):]
	} else if strings.HasPrefix(s, "**") {
		return r, errors.New("a bold prefix other than **target (…):**")
	}
	m := ruleRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return r, errors.New("not of the form `SUBJECT` must not import|depend on: `X`, `Y` [except `Z`, …]")
	}
	r.Subject, r.Verb = m[1], verb(m[2])
	forbid, except, hasExcept := strings.Cut(m[3], " except ")
	var err error
	if r.Forbid, err = parseList(forbid); err != nil {
		return r, err
	}
	if hasExcept {
		if r.Except, err = parseList(except); err != nil {
			return r, fmt.Errorf("after except: %w", err)
		}
	}
	for _, p := range append(append([]string{r.Subject}, r.Forbid...), r.Except...) {
		if err := checkPattern(p); err != nil {
			return r, err
		}
	}
	if !isModulePattern(r.Subject) {
		return r, fmt.Errorf("subject %q is not a package of the module (write it ./path)", r.Subject)
	}
	return r, nil
}

func parseList(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if !listRe.MatchString(s) {
		return nil, fmt.Errorf("%q is not a list of `quoted` packages separated by \", \"", s)
	}
	var out []string
	for _, m := range itemRe.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out, nil
}

func isModulePattern(p string) bool { return p == "." || p == "./..." || strings.HasPrefix(p, "./") }

// checkPattern accepts an import path or ./path, with "..." only as the
// whole last element.
func checkPattern(p string) error {
	rest, _ := strings.CutSuffix(p, "/...")
	if p == "./..." {
		rest = "."
	}
	if strings.Contains(rest, "...") || strings.ContainsAny(rest, " \t\\") || strings.HasPrefix(rest, "../") ||
		strings.HasSuffix(rest, "/") || rest == "" || strings.HasPrefix(rest, "/") {
		return fmt.Errorf("%q is not a package path or a path/... pattern", p)
	}
	return nil
}

// page is the parsed rules section.
type page struct {
	Rules    []rule
	Problems []string // lines of the section that are not rules
}

func parsePage(text string) page {
	var p page
	in := false
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \r")
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == rulesHeading
			continue
		case !in || !strings.HasPrefix(line, "- "):
			continue
		}
		r, err := parseRule(line[2:])
		if err != nil {
			p.Problems = append(p.Problems, fmt.Sprintf("%s:%d: %v:\n\t%s", pagePath, i+1, err, line))
			continue
		}
		r.Line, r.Text = i+1, line[2:]
		p.Rules = append(p.Rules, r)
	}
	return p
}

func readPage(t *testing.T) page {
	t.Helper()
	root, err := findRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, pagePath))
	require.NoError(t, err)
	p := parsePage(string(b))
	require.Empty(t, p.Problems, "%s, section %q: every line starting with \"- \" must be a rule", pagePath, rulesHeading)
	require.NotEmpty(t, p.Rules, "%s has no section %q with rules", pagePath, rulesHeading)
	return p
}

// graph is the module's import graph as go list reports it: every package
// the module's packages link, each with its direct imports.
type graph struct {
	module  string
	own     []string            // the module's packages, sorted
	imports map[string][]string // every listed package's direct imports
	mu      sync.Mutex
	deps    map[string]map[string]bool
}

type listed struct {
	ImportPath string
	Imports    []string
	Module     *struct {
		Path string
		Main bool
	}
}

// loadGraph runs go list once per test binary.
var loadGraph = sync.OnceValues(func() (*graph, error) {
	root, err := findRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports,Module", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps ./...: %w\n%s", err, stderr.String())
	}
	g := &graph{imports: map[string][]string{}, deps: map[string]map[string]bool{}}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list's output: %w", err)
		}
		g.imports[p.ImportPath] = p.Imports
		if p.Module != nil && p.Module.Main {
			g.module = p.Module.Path
			g.own = append(g.own, p.ImportPath)
		}
	}
	if g.module == "" {
		return nil, errors.New("go list reported no package of the main module")
	}
	slices.Sort(g.own)
	return g, nil
})

// findRoot is the directory of the go.mod above the test's directory.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func needGraph(t *testing.T) *graph {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("the go tool is not on PATH (%v): the import rules of %s are not checked", err, pagePath)
	}
	g, err := loadGraph()
	require.NoError(t, err)
	return g
}

// resolve turns a pattern of the page into a matcher of import paths.
func (g *graph) resolve(p string) func(string) bool {
	switch {
	case p == "./...":
		p = g.module + "/..."
	case p == ".":
		p = g.module
	case strings.HasPrefix(p, "./"):
		p = g.module + "/" + p[2:]
	}
	if base, ok := strings.CutSuffix(p, "/..."); ok {
		return func(s string) bool { return s == base || strings.HasPrefix(s, base+"/") }
	}
	return func(s string) bool { return s == p }
}

// short writes an import path as the page does.
func (g *graph) short(path string) string {
	switch {
	case path == g.module:
		return "."
	case strings.HasPrefix(path, g.module+"/"):
		return "./" + path[len(g.module)+1:]
	}
	return path
}

// closure is everything pkg links, itself excluded.
func (g *graph) closure(pkg string) map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d, ok := g.deps[pkg]; ok {
		return d
	}
	d := map[string]bool{}
	stack := slices.Clone(g.imports[pkg])
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d[p] || p == pkg {
			continue
		}
		d[p] = true
		stack = append(stack, g.imports[p]...)
	}
	g.deps[pkg] = d
	return d
}

// chain is a shortest import chain from one package to another.
func (g *graph) chain(from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var out []string
			for ; p != ""; p = prev[p] {
				out = append(out, g.short(p))
			}
			slices.Reverse(out)
			return out
		}
		for _, q := range g.imports[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}

// check returns how r is broken (one line per forbidden import), and what
// is wrong with the rule itself (a pattern that names nothing).
func (g *graph) check(r rule) (broken, problems []string) {
	anyOf := func(ps []string) []func(string) bool {
		var ms []func(string) bool
		for _, p := range ps {
			m := g.resolve(p)
			ms = append(ms, m)
			known := slices.ContainsFunc(g.own, m)
			if !isModulePattern(p) {
				known = false
				for q := range g.imports {
					if m(q) {
						known = true
						break
					}
				}
			}
			if !known {
				problems = append(problems, fmt.Sprintf("%q names no package the module has or links: a typo, or a package renamed or gone (update the page)", p))
			}
		}
		return ms
	}
	subject := g.resolve(r.Subject)
	subjects := slices.DeleteFunc(slices.Clone(g.own), func(s string) bool { return !subject(s) })
	if len(subjects) == 0 {
		problems = append(problems, fmt.Sprintf("subject %q matches no package of the module", r.Subject))
	}
	forbid, except := anyOf(r.Forbid), anyOf(r.Except)
	matches := func(ms []func(string) bool, s string) bool {
		return slices.ContainsFunc(ms, func(m func(string) bool) bool { return m(s) })
	}
	for _, s := range subjects {
		var cands []string
		if r.Verb == mustNotImport {
			cands = slices.Clone(g.imports[s])
		} else {
			for d := range g.closure(s) {
				cands = append(cands, d)
			}
		}
		slices.Sort(cands)
		for _, d := range cands {
			if d == s || !matches(forbid, d) || matches(except, d) {
				continue
			}
			if r.Verb == mustNotImport {
				broken = append(broken, fmt.Sprintf("%s imports %s", g.short(s), g.short(d)))
			} else {
				broken = append(broken, fmt.Sprintf("%s depends on %s (%s)", g.short(s), g.short(d), strings.Join(g.chain(s, d), " → ")))
			}
		}
	}
	return broken, problems
}

// TestImportRules checks every rule of the page against the import graph:
// a rule of today that does not hold fails the test, naming the package
// and the forbidden import; a target rule is reported either way.
func TestImportRules(t *testing.T) {
	p := readPage(t)
	g := needGraph(t)
	var today, pending, done int
	for _, r := range p.Rules {
		broken, problems := g.check(r)
		where := fmt.Sprintf("%s:%d", pagePath, r.Line)
		for _, pr := range problems {
			assert.Failf(t, "rule names nothing", "%s: %s\n\t%s", where, pr, r.Text)
		}
		switch {
		case r.Target == "":
			today++
			for _, b := range broken {
				assert.Failf(t, "import rule broken", "%s\n\tforbidden by %s: %s", b, where, r.Text)
			}
		case len(broken) > 0:
			pending++
			t.Logf("target (%s), %s: %s\n\t%s", r.Target, where, strings.Join(broken, "\n\t"), r.Text)
		default:
			done++
			t.Logf("target rule now holds, %s: make it a rule of today so that it stays true\n\t%s", where, r.Text)
		}
	}
	t.Logf("%d rules of today checked against %d packages of %s; target rules: %d not yet true, %d holding",
		today, len(g.own), g.module, pending, done)
}

// floor is what issue 12 takes as true today: the page may say more, never
// less. Each entry: the package, and the module packages (a pattern, with
// exceptions) it must not import.
var floor = []struct {
	subject, forbid string
	except          []string
}{
	{"./device", "./...", []string{"./device/hid"}},
	{"./device/hid", "./...", nil},
	{"./agent", "./offline", nil},
	{"./agent", "./ui", nil},
	{"./agent", "./cmd/...", nil},
	{"./offline", "./ui", nil},
	{"./offline", "./cmd/...", nil},
	{"./ui", "./cmd/...", nil},
}

// TestPageKeepsTheFloor fails when the page's rules of today no longer
// forbid what issue 12 takes as given (so that weakening the page is seen).
func TestPageKeepsTheFloor(t *testing.T) {
	p := readPage(t)
	g := needGraph(t)
	forbids := func(r rule, pkg, dep string) bool {
		in := func(ps []string) bool {
			return slices.ContainsFunc(ps, func(p string) bool { return g.resolve(p)(dep) })
		}
		return r.Target == "" && g.resolve(r.Subject)(pkg) && in(r.Forbid) && !in(r.Except)
	}
	for _, f := range floor {
		pkg := g.resolve(f.subject)
		subjects := slices.DeleteFunc(slices.Clone(g.own), func(s string) bool { return !pkg(s) })
		require.NotEmpty(t, subjects, "the floor names %s, which the module no longer has", f.subject)
		forbid := g.resolve(f.forbid)
		for _, s := range subjects {
			var missing []string
			for _, d := range g.own {
				if d == s || !forbid(d) || slices.ContainsFunc(f.except, func(e string) bool { return g.resolve(e)(d) }) {
					continue
				}
				if !slices.ContainsFunc(p.Rules, func(r rule) bool { return forbids(r, s, d) }) {
					missing = append(missing, g.short(d))
				}
			}
			assert.Emptyf(t, missing, "%s has no rule of today forbidding %s to import these (issue 12: %s must not import %s)",
				pagePath, g.short(s), f.subject, f.forbid)
		}
	}
}

func TestParseRule(t *testing.T) {
	r, err := parseRule("`./device` must not depend on: `./...` except `./device/hid`")
	require.NoError(t, err)
	assert.Equal(t, rule{Subject: "./device", Verb: mustNotDependOn, Forbid: []string{"./..."}, Except: []string{"./device/hid"}}, r)

	r, err = parseRule("**target (issue 12, not yet true):** `./ui` must not import: `./agent/onecard`, `fyne.io/fyne/v2/...`")
	require.NoError(t, err)
	assert.Equal(t, rule{Target: "issue 12, not yet true", Subject: "./ui", Verb: mustNotImport,
		Forbid: []string{"./agent/onecard", "fyne.io/fyne/v2/..."}}, r)

	for _, bad := range []string{
		"`./ui` must not use: `./offline`",                // unknown verb
		"`./ui` must not import: `./offline` `./cmd/...`", // no comma
		"`./ui` must not import: ./offline",               // not quoted
		"`ui` must not import: `./offline`",               // subject outside the module
		"`./ui` must not import: `./a/.../b`",             // ... inside a path
		"`./ui` must not import: `./offline` except",      // empty except
		"**todo:** `./ui` must not import: `./offline`",   // unknown marker
		"the UI should not know the store",                // prose in a bullet
	} {
		_, err := parseRule(bad)
		assert.Errorf(t, err, "parseRule(%q)", bad)
	}
}

func TestParsePageSection(t *testing.T) {
	p := parsePage("# T\n- `./x` must not import: `./y`\n## Import rules\ntext\n- `./a` must not import: `./b`\n  - nested, ignored\n## Next\n- `./c` must not import: `./d`\n")
	require.Empty(t, p.Problems)
	require.Len(t, p.Rules, 1)
	assert.Equal(t, 5, p.Rules[0].Line)
	assert.Equal(t, "./a", p.Rules[0].Subject)
}
