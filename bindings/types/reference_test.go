package types_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/amqpjs/amqpjs/internal/dtscheck"
)

// The reference pages of the aioamqp module's classes, checked against the
// bindings: every name the bindings expose has a section, and every section
// names something that exists.

// refPages are the pages this package checks, and, for each, the classes
// ("## " sections with members) that must all be checked.
var refPages = []string{"aioamqp.md", "protocol.md", "transport.md", "channel.md", "message.md", "exceptions.md", "faults.md"}

type refChecker struct {
	t       *testing.T
	pages   map[string]dtscheck.Reference
	checked map[string]map[string]bool // page → class
}

func newRefChecker(t *testing.T) *refChecker {
	t.Helper()
	rc := &refChecker{t: t, pages: map[string]dtscheck.Reference{}, checked: map[string]map[string]bool{}}
	for _, p := range refPages {
		b, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference", p))
		if err != nil {
			t.Fatal(err)
		}
		rc.pages[p] = dtscheck.ParseReference(string(b))
		rc.checked[p] = map[string]bool{}
	}
	return rc
}

// check compares the names an object has with the "### " sections of class
// in page.
func (rc *refChecker) check(page, class string, real []string) {
	rc.t.Helper()
	ref, ok := rc.pages[page][class]
	if !ok {
		rc.t.Errorf("docs/reference/%s: no section \"## `%s`\"", page, class)
		return
	}
	rc.checked[page][class] = true
	undocumented, extra := dtscheck.Diff(real, ref)
	if len(undocumented) > 0 {
		rc.t.Errorf("docs/reference/%s, %s: no section for %s", page, class, strings.Join(undocumented, ", "))
	}
	if len(extra) > 0 {
		rc.t.Errorf("docs/reference/%s, %s: sections for names that do not exist: %s", page, class, strings.Join(extra, ", "))
	}
}

// done fails on classes with members that no check looked at.
func (rc *refChecker) done() {
	rc.t.Helper()
	for page, ref := range rc.pages {
		for class, members := range ref {
			if len(members) > 0 && !rc.checked[page][class] {
				rc.t.Errorf("docs/reference/%s: section %q documents members no test checks", page, class)
			}
		}
	}
}

func TestReference(t *testing.T) {
	rc := newRefChecker(t)
	rt, exports := newModule(t)
	vm := rt.VM()

	// The module, without its exception classes (exceptions.md has those).
	excObj := exports.Get("exceptions").ToObject(vm)
	excNames := dtscheck.Set(excObj.Keys()...)
	var mod []string
	for _, n := range ownNames(vm, exports) {
		if !excNames[n] {
			mod = append(mod, n)
		}
	}
	rc.check("aioamqp.md", "aioamqp", mod)

	fv, err := rt.Require("amqpjs/faults")
	if err != nil {
		t.Fatal(err)
	}
	rc.check("faults.md", "amqpjs/faults", ownNames(vm, fv.ToObject(vm)))

	// Exceptions: a section per class; each documented field is an own
	// field of that class's instances; every field is documented somewhere.
	var classes []string
	for c := range rc.pages["exceptions.md"] {
		classes = append(classes, c)
	}
	undoc, extra := dtscheck.Diff(excObj.Keys(), dtscheck.Set(classes...))
	if len(undoc) > 0 || len(extra) > 0 {
		t.Errorf("docs/reference/exceptions.md: classes without a section: %v; sections that are not classes: %v", undoc, extra)
	}
	allFields := map[string]bool{}
	documented := map[string]bool{}
	for _, name := range excObj.Keys() {
		if err := vm.Set("__C", excObj.Get(name)); err != nil {
			t.Fatal(err)
		}
		inst := eval(t, vm, "new __C("+excArgs[name]+")").ToObject(vm)
		own := dtscheck.Set(ownNames(vm, inst)...)
		for f := range own {
			if f != "message" && f != "stack" && f != "name" {
				allFields[f] = true
			}
		}
		for f := range rc.pages["exceptions.md"][name] {
			documented[f] = true
			if !own[f] {
				t.Errorf("docs/reference/exceptions.md, %s: section for %s, which its instances do not have", name, f)
			}
		}
		rc.checked["exceptions.md"][name] = true
	}
	var missing []string
	for f := range allFields {
		if !documented[f] {
			missing = append(missing, f)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/reference/exceptions.md: exception fields without a section: %v", missing)
	}

	// Objects that need a broker, from the bindings' source (the
	// integration test checks the live objects).
	channelGo, connectGo, deliveryGo := source(t, "channel.go"), source(t, "connect.go"), source(t, "delivery.go")
	chNames := append(stringSlice(t, channelGo, "channelMethodNames"), setNames(funcDecl(t, channelGo, "newChannel"), "o", true)...)
	rc.check("channel.md", "Channel", chNames)
	open := funcDecl(t, connectGo, "open")
	rc.check("protocol.md", "Protocol", setNames(open, "proto", true))
	rc.check("transport.md", "Transport", setNames(open, "transport", false))
	rc.check("message.md", "Envelope", stringSlice(t, deliveryGo, "envelopeKeys"))
	rc.check("message.md", "ReturnEnvelope", setNames(funcDecl(t, channelGo, "returned"), "env", false))
	rc.check("message.md", "properties", stringSlice(t, deliveryGo, "propertyOrder"))

	msg, it := preludeObjects(t, rt, exports)
	rc.check("message.md", "Message", ownNames(vm, msg))
	rc.check("message.md", "ConsumeIterator", ownNames(vm, it))
	rc.done()
}
