// Package dtscheck reads the TypeScript definitions amqpjs ships
// (bindings/types, runtime/types) just far enough to list what they
// declare — modules, their exported values, interfaces and classes with
// their members — so that tests can compare them with the objects the
// runtime really makes. It is not a TypeScript parser: it relies on the
// layout of those files (one member or declaration per line, bodies in
// braces), and it is only used by tests.
package dtscheck

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// File is what a set of .d.ts files declares.
type File struct {
	// Global holds the declarations outside any `declare module`.
	Global *Scope
	// Modules holds each `declare module 'name'`.
	Modules map[string]*Scope
}

// Scope is a module or the global scope.
type Scope struct {
	// Values are the value names: exported functions, constants,
	// variables, classes and namespaces of a module ("default" for a
	// default export), or the global ones (`declare var`, `declare
	// function`, `declare class`).
	Values map[string]bool
	// Types are the interfaces and classes, by name.
	Types map[string]*Type
	// ReExports lists the modules whose values this one re-exports
	// (`export * from 'x'`).
	ReExports []string
	// ExportAssign is the name of `export = name`: the module is that
	// value (a namespace, or an import alias).
	ExportAssign string
	// Imports are `import name = require('module')` aliases.
	Imports map[string]string
	// Namespaces are the `namespace name { … }` bodies, as scopes.
	Namespaces map[string]*Scope
}

// Type is an interface or a class.
type Type struct {
	Name    string
	Class   bool
	Extends []string
	// Members are the instance members (properties and methods; a symbol
	// key is written "[Symbol.asyncIterator]"); Statics a class's static
	// members. Constructors and index signatures are not members.
	Members, Statics map[string]bool
	// Optional are the members declared with "?" (name?: T).
	Optional map[string]bool
}

func newScope() *Scope {
	return &Scope{Values: map[string]bool{}, Types: map[string]*Type{}, Imports: map[string]string{}, Namespaces: map[string]*Scope{}}
}

// Parse reads the concatenation of .d.ts sources.
func Parse(srcs ...string) (*File, error) {
	f := &File{Global: newScope(), Modules: map[string]*Scope{}}
	for _, src := range srcs {
		text := stripComments(src)
		if err := f.parseScope(text, f.Global, true); err != nil {
			return nil, err
		}
	}
	return f, nil
}

var (
	reModule    = regexp.MustCompile(`^declare\s+module\s+['"]([^'"]+)['"]\s*\{`)
	reGlobal    = regexp.MustCompile(`^declare\s+global\s*\{`)
	reDecl      = regexp.MustCompile(`^(export\s+)?(declare\s+)?(abstract\s+)?(function|const|let|var|class|interface|type|namespace|enum)\s+([A-Za-z_$][\w$]*)`)
	reDefault   = regexp.MustCompile(`^export\s+default\s+`)
	reStar      = regexp.MustCompile(`^export\s+\*\s+from\s+['"]([^'"]+)['"]`)
	reExportSet = regexp.MustCompile(`^export\s+\{([^}]*)\}`)
	reExtends   = regexp.MustCompile(`\bextends\s+([^{]+?)\s*(implements\b[^{]*)?\{`)
	reAssign    = regexp.MustCompile(`^export\s*=\s*([A-Za-z_$][\w$]*)`)
	reImportReq = regexp.MustCompile(`^import\s+([A-Za-z_$][\w$]*)\s*=\s*require\(\s*['"]([^'"]+)['"]\s*\)`)
	reMember    = regexp.MustCompile(`^((?:readonly|static|public|declare)\s+)*(\[Symbol\.\w+\]|[A-Za-z_$][\w$]*|'[^']*'|"[^"]*")\s*(\?\s*)?[(:<]`)
)

// parseScope reads the declarations of a module body or of the global
// scope (inFile: a script .d.ts, or a `declare global` block), where every
// declaration is a value; in a module only exported ones are.
func (f *File) parseScope(text string, s *Scope, inFile bool) error {
	return eachTopLine(text, func(line string, at int) (int, error) {
		switch {
		case reModule.MatchString(line):
			name := reModule.FindStringSubmatch(line)[1]
			open := at + strings.Index(line, "{")
			end, err := matchBrace(text, open)
			if err != nil {
				return 0, fmt.Errorf("module %s: %w", name, err)
			}
			ms := f.Modules[name]
			if ms == nil {
				ms = newScope()
				f.Modules[name] = ms
			}
			return end + 1, f.parseScope(text[open+1:end], ms, false)
		case reGlobal.MatchString(line):
			open := at + strings.Index(line, "{")
			end, err := matchBrace(text, open)
			if err != nil {
				return 0, err
			}
			return end + 1, f.parseScope(text[open+1:end], f.Global, true)
		case reAssign.MatchString(line):
			s.ExportAssign = reAssign.FindStringSubmatch(line)[1]
		case reImportReq.MatchString(line):
			m := reImportReq.FindStringSubmatch(line)
			s.Imports[m[1]] = m[2]
		case reStar.MatchString(line):
			s.ReExports = append(s.ReExports, reStar.FindStringSubmatch(line)[1])
		case reExportSet.MatchString(line):
			for _, spec := range strings.Split(reExportSet.FindStringSubmatch(line)[1], ",") {
				spec = strings.TrimSpace(spec)
				if k := strings.Index(spec, " as "); k >= 0 {
					spec = strings.TrimSpace(spec[k+4:])
				}
				if spec != "" && !strings.HasPrefix(spec, "type ") {
					s.Values[spec] = true
				}
			}
		case reDefault.MatchString(line):
			s.Values["default"] = true
		case reDecl.MatchString(line):
			m := reDecl.FindStringSubmatch(line)
			exported, kind, name := m[1] != "" || inFile, m[4], m[5]
			switch kind {
			case "interface", "class":
				t := f.typeIn(s, name, kind == "class")
				open := indexBodyBrace(text, at)
				if open < 0 {
					return 0, fmt.Errorf("%s %s: no body", kind, name)
				}
				if em := reExtends.FindStringSubmatch(text[at : open+1]); em != nil {
					for _, e := range splitTopLevel(em[1]) {
						if e = strings.TrimSpace(e); e != "" {
							if k := strings.IndexAny(e, "<"); k >= 0 {
								e = e[:k]
							}
							t.Extends = append(t.Extends, strings.TrimSpace(e))
						}
					}
				}
				end, err := matchBrace(text, open)
				if err != nil {
					return 0, fmt.Errorf("%s %s: %w", kind, name, err)
				}
				if err := parseMembers(text[open+1:end], t); err != nil {
					return 0, fmt.Errorf("%s %s: %w", kind, name, err)
				}
				if kind == "class" && exported {
					s.Values[name] = true
				}
				return end + 1, nil
			case "type":
				// a type alias: no value
			case "namespace":
				if exported {
					s.Values[name] = true
				}
				open := indexBodyBrace(text, at)
				if open < 0 {
					return 0, fmt.Errorf("namespace %s: no body", name)
				}
				end, err := matchBrace(text, open)
				if err != nil {
					return 0, fmt.Errorf("namespace %s: %w", name, err)
				}
				ns := s.Namespaces[name]
				if ns == nil {
					ns = newScope()
					s.Namespaces[name] = ns
				}
				return end + 1, f.parseScope(text[open+1:end], ns, false)
			default: // function, const, let, var, enum
				if exported {
					s.Values[name] = true
				}
			}
		}
		return -1, nil
	})
}

func (f *File) typeIn(s *Scope, name string, class bool) *Type {
	t := s.Types[name]
	if t == nil {
		t = &Type{Name: name, Class: class, Members: map[string]bool{}, Statics: map[string]bool{}, Optional: map[string]bool{}}
		s.Types[name] = t
	}
	if class {
		t.Class = true
	}
	return t
}

// parseMembers reads an interface or class body.
func parseMembers(body string, t *Type) error {
	return eachTopLine(body, func(line string, _ int) (int, error) {
		m := reMember.FindStringSubmatch(line)
		if m == nil {
			return -1, nil
		}
		name := strings.Trim(m[2], `'"`)
		if name == "constructor" || name == "new" {
			return -1, nil
		}
		if strings.Contains(m[1], "static") {
			t.Statics[name] = true
		} else {
			t.Members[name] = true
			if m[3] != "" {
				t.Optional[name] = true
			}
		}
		return -1, nil
	})
}

// eachTopLine calls fn with each line of text that starts at nesting depth
// 0 (outside any (), [], {}), and the line's offset. fn returns the offset
// to go on from (past a body it read), or -1 to read the line on.
func eachTopLine(text string, fn func(line string, at int) (int, error)) error {
	depth := 0
	i := 0
	for i < len(text) {
		// at a line start
		j := i
		for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r') {
			j++
		}
		if depth == 0 && j < len(text) && text[j] != '\n' {
			eol := strings.IndexByte(text[j:], '\n')
			line := text[j:]
			if eol >= 0 {
				line = text[j : j+eol]
			}
			next, err := fn(line, j)
			if err != nil {
				return err
			}
			if next >= 0 {
				i = next
				continue
			}
		}
		// scan to the end of the line, tracking depth
		for i < len(text) && text[i] != '\n' {
			switch c := text[i]; c {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth--
			case '\'', '"', '`':
				if k := strings.IndexByte(text[i+1:], c); k >= 0 {
					i += k + 1
				}
			}
			i++
		}
		i++ // the newline
	}
	if depth != 0 {
		return fmt.Errorf("unbalanced brackets (depth %d at the end)", depth)
	}
	return nil
}

// indexBodyBrace returns the offset of the "{" that opens the body of the
// declaration starting at at: the first "{" outside () and <>.
func indexBodyBrace(text string, at int) int {
	paren, angle := 0, 0
	for i := at; i < len(text); i++ {
		switch text[i] {
		case '(':
			paren++
		case ')':
			paren--
		case '<':
			angle++
		case '>':
			if i > 0 && text[i-1] != '=' {
				angle--
			}
		case '{':
			if paren == 0 && angle == 0 {
				return i
			}
		}
	}
	return -1
}

// matchBrace returns the offset of the "}" closing the "{" at open.
func matchBrace(text string, open int) (int, error) {
	depth := 0
	for i := open; i < len(text); i++ {
		switch c := text[i]; c {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i, nil
			}
		case '\'', '"', '`':
			if k := strings.IndexByte(text[i+1:], c); k >= 0 {
				i += k + 1
			}
		}
	}
	return 0, fmt.Errorf("no closing brace for the one at offset %d", open)
}

// splitTopLevel splits a comma list outside <>.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '<':
			depth++
		case '>':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// stripComments blanks // and /* */ comments (keeping newlines, so
// offsets and lines stay), leaving string literals alone.
func stripComments(src string) string {
	b := []byte(src)
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\'' || b[i] == '"' || b[i] == '`':
			q := b[i]
			for i++; i < len(b) && b[i] != q && b[i] != '\n'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '/':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			for ; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		}
	}
	return string(b)
}

// Module returns the scope of module name, or nil.
func (f *File) Module(name string) *Scope { return f.Modules[name] }

// ModuleValues returns the exported values of module name, re-exports
// included.
func (f *File) ModuleValues(name string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		s := f.Modules[n]
		if s == nil {
			return
		}
		if a := s.ExportAssign; a != "" {
			// export = x: the module's values are x's: a namespace's
			// exported values, or another module's (import x = require).
			if mod, ok := s.Imports[a]; ok {
				walk(mod)
			} else if ns := s.Namespaces[a]; ns != nil {
				for v := range ns.Values {
					out[v] = true
				}
			}
			return
		}
		for v := range s.Values {
			out[v] = true
		}
		for _, r := range s.ReExports {
			walk(r)
		}
	}
	walk(name)
	return out
}

// errorMembers are what a class extending Error gets from it.
var errorMembers = []string{"name", "message", "stack"}

// Members returns the instance members of type name as seen from scope s
// (a module scope, or nil for the global one), inherited ones included.
// Error, as a base, brings name, message and stack; other bases that are
// not declared (TypeScript's lib types) bring nothing.
func (f *File) Members(s *Scope, name string) (map[string]bool, error) {
	out := map[string]bool{}
	return out, f.collect(s, name, out, false, 0)
}

// Statics returns the static members of class name, inherited ones
// included.
func (f *File) Statics(s *Scope, name string) (map[string]bool, error) {
	out := map[string]bool{}
	return out, f.collect(s, name, out, true, 0)
}

// Type finds type name in s, then in the global scope.
func (f *File) Type(s *Scope, name string) *Type {
	if s != nil {
		if t := s.Types[name]; t != nil {
			return t
		}
	}
	return f.Global.Types[name]
}

func (f *File) collect(s *Scope, name string, out map[string]bool, statics bool, depth int) error {
	if depth > 16 {
		return fmt.Errorf("%s: inheritance too deep", name)
	}
	t := f.Type(s, name)
	if t == nil {
		switch {
		case name == "Error":
			if !statics {
				for _, m := range errorMembers {
					out[m] = true
				}
			}
			return nil
		case depth > 0:
			return nil // a base from TypeScript's lib (AsyncIterableIterator…)
		}
		return fmt.Errorf("type %s is not declared", name)
	}
	set := t.Members
	if statics {
		set = t.Statics
	}
	for m := range set {
		out[m] = true
	}
	for _, e := range t.Extends {
		if err := f.collect(s, e, out, statics, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// Diff compares the names an object really has with the declared ones: it
// returns the real names that are not declared and the declared names that
// do not exist, both sorted.
func Diff(real []string, declared map[string]bool) (undeclared, extra []string) {
	have := map[string]bool{}
	for _, r := range real {
		have[r] = true
		if !declared[r] {
			undeclared = append(undeclared, r)
		}
	}
	for d := range declared {
		if !have[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(undeclared)
	sort.Strings(extra)
	return undeclared, extra
}

// Set makes a set of names.
func Set(names ...string) map[string]bool {
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

// Required returns the instance members of type name that an object must
// have: the declared ones, inherited included, except those declared
// optional (name?: T) where the nearest declaration is optional.
func (f *File) Required(s *Scope, name string) (map[string]bool, error) {
	all, err := f.Members(s, name)
	if err != nil {
		return nil, err
	}
	decided := map[string]bool{}
	var walk func(string, int)
	walk = func(n string, depth int) {
		t := f.Type(s, n)
		if t == nil || depth > 16 {
			return
		}
		for m := range t.Members {
			if _, ok := decided[m]; !ok {
				decided[m] = !t.Optional[m]
			}
		}
		for _, e := range t.Extends {
			walk(e, depth+1)
		}
	}
	walk(name, 0)
	out := map[string]bool{}
	for m := range all {
		if req, ok := decided[m]; !ok || req {
			out[m] = true
		}
	}
	return out, nil
}
