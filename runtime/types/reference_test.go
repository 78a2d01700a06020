package types_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/internal/dtscheck"
)

// The reference pages of the globals and built-in modules, checked against
// a real runtime: every name has a section, and every section names
// something that exists.

var refPages = []string{"globals.md", "builtins.md", "metrics.md"}

func TestReference(t *testing.T) {
	pages := map[string]dtscheck.Reference{}
	checked := map[string]map[string]bool{}
	for _, p := range refPages {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference", p))
		if err != nil {
			t.Fatal(err)
		}
		pages[p] = dtscheck.ParseReference(string(b))
		checked[p] = map[string]bool{}
	}
	check := func(page, class string, real []string) {
		t.Helper()
		ref, ok := pages[page][class]
		if !ok {
			t.Errorf("docs/reference/%s: no section \"## `%s`\"", page, class)
			return
		}
		checked[page][class] = true
		undocumented, extra := dtscheck.Diff(real, ref)
		if len(undocumented) > 0 {
			t.Errorf("docs/reference/%s, %s: no section for %s", page, class, strings.Join(undocumented, ", "))
		}
		if len(extra) > 0 {
			t.Errorf("docs/reference/%s, %s: sections for names that do not exist: %s", page, class, strings.Join(extra, ", "))
		}
	}
	rt := newRuntime(t)
	vm := rt.VM()
	names := func(expr string) []string { return ownNames(t, vm, eval(t, vm, expr)) }

	base := dtscheck.Set(goja.New().GlobalObject().GetOwnPropertyNames()...)
	globals := append([]string(nil), wrapperNames...)
	for _, k := range vm.GlobalObject().GetOwnPropertyNames() {
		if !base[k] && !strings.HasPrefix(k, "__amqpjs") {
			globals = append(globals, k)
		}
	}
	check("globals.md", "Globals", globals)
	for class, expr := range map[string]string{
		"console":         "console",
		"process":         "process",
		"performance":     "performance",
		"Timeout":         "Object.getPrototypeOf(setTimeout(() => {}, 1))",
		"Buffer":          "Buffer",
		"buf":             "Buffer.prototype",
		"TextEncoder":     "new TextEncoder()",
		"TextDecoder":     "new TextDecoder()",
		"URL":             "URL.prototype",
		"URLSearchParams": "URLSearchParams.prototype",
	} {
		check("globals.md", class, names(expr))
	}
	for _, mod := range []string{"assert", "util", "timers/promises", "buffer", "url"} {
		check("builtins.md", mod, names("require('"+mod+"')"))
	}
	for _, mod := range []string{"console", "process"} { // documented in globals.md
		check("builtins.md", mod, nil)
		if _, err := rt.Require(mod); err != nil {
			t.Errorf("module %s: %v", mod, err)
		}
	}
	check("metrics.md", "amqpjs/metrics", names("require('amqpjs/metrics')"))
	check("metrics.md", "metric", names("new (require('amqpjs/metrics').Counter)('c')"))
	eval(t, vm, "clearTimeout(1)")

	for page, ref := range pages {
		for class, members := range ref {
			if len(members) > 0 && !checked[page][class] {
				t.Errorf("docs/reference/%s: section %q documents members no test checks", page, class)
			}
		}
	}
}
