package repl

import (
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// completionWait bounds how long tab completion waits for the loop (busy
// with a callback, say) before offering nothing.
const completionWait = time.Second

var commandPrefixRe = regexp.MustCompile(`^\s*\.([A-Za-z]*)$`)

// completions offers the names that may follow the text before the cursor:
// REPL commands after a leading dot, globals, or the members (own and
// inherited properties) of the object a dotted path names. The path is
// evaluated on the loop by property reads only — no call is made. It
// returns the full names and the partial word they complete. Editor
// goroutine.
func (s *session) completions(line string) ([]string, string) {
	if m := commandPrefixRe.FindStringSubmatch(line); m != nil {
		var names []string
		for _, c := range commands {
			if strings.HasPrefix(c.name, m[1]) {
				names = append(names, "."+c.name)
			}
		}
		return names, "." + m[1]
	}
	path, prefix, ok := completionTarget(line)
	if !ok {
		return nil, ""
	}
	res := make(chan []string, 1)
	if !s.loop.RunOnLoop(func(vm *goja.Runtime) { res <- s.memberNames(vm, path, prefix) }) {
		return nil, ""
	}
	select {
	case names := <-res:
		return names, prefix
	case <-time.After(completionWait):
		return nil, ""
	case <-s.loopDone:
		return nil, ""
	}
}

// memberNames lists the property names of the object at path (the global
// object when path is empty) that start with prefix. Loop only.
func (s *session) memberNames(vm *goja.Runtime, path []string, prefix string) (names []string) {
	defer func() {
		if recover() != nil { // a getter threw
			names = nil
		}
	}()
	obj := vm.GlobalObject()
	for _, p := range path {
		v := obj.Get(p)
		if v == nil && obj == vm.GlobalObject() && s.lexical[p] {
			// a global let/const/class: not a property of the global object
			var err error
			if v, err = vm.RunString(p); err != nil {
				return nil
			}
		}
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return nil
		}
		obj = v.ToObject(vm)
	}
	seen := map[string]bool{}
	add := func(n string) {
		if seen[n] || !strings.HasPrefix(n, prefix) || !isIdent(n) {
			return
		}
		if strings.HasPrefix(n, "__amqpjs") || strings.HasPrefix(n, "__") && !strings.HasPrefix(prefix, "__") {
			return
		}
		seen[n] = true
		names = append(names, n)
	}
	if len(path) == 0 {
		for n := range s.lexical {
			add(n)
		}
	}
	for o, depth := obj, 0; o != nil && depth < 32; o, depth = o.Prototype(), depth+1 {
		for _, n := range o.GetOwnPropertyNames() {
			add(n)
		}
	}
	sort.Strings(names)
	return names
}
