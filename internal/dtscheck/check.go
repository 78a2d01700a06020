package dtscheck

import (
	"strings"
	"testing"
)

// Checker compares the names of the objects the runtime really makes with
// what a set of definitions declares, and reports the difference as test
// errors.
type Checker struct {
	Defs string // the definitions as messages name them: "aioamqp.d.ts"
	Impl string // what makes the objects: "the bindings"
}

// Same reports the names of real that declared lacks and the reverse; what
// names the object.
func (c Checker) Same(t testing.TB, what string, real []string, declared map[string]bool) {
	t.Helper()
	undeclared, extra := Diff(real, declared)
	if len(undeclared) > 0 {
		t.Errorf("%s: not declared in %s: %s", what, c.Defs, strings.Join(undeclared, ", "))
	}
	if len(extra) > 0 {
		t.Errorf("%s: declared in %s but not in %s: %s", what, c.Defs, c.Impl, strings.Join(extra, ", "))
	}
}

// MustMembers is [File.Members], ending the test on an error.
func MustMembers(t testing.TB, f *File, s *Scope, name string) map[string]bool {
	t.Helper()
	ms, err := f.Members(s, name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ms
}
