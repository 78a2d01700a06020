//go:build js

package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall/js"
)

// Under GOOS=js the sources are compiled by the JavaScript host's esbuild,
// the npm package of the same version as the Go module the other builds
// link (esbuildVersion): linking esbuild would add ~8 MB to amqpjs.wasm.
// Its transformSync takes the options of the Go API and gives the same
// output.
//
// esbuild is found, on first use:
//
//  1. globalThis.__amqpjs_esbuild, a function returning the esbuild module
//     (or throwing an error that says why there is none): the host package
//     (wasm/host/index.mjs) sets it to load the esbuild of its own
//     node_modules;
//  2. otherwise, with Node's require (globalThis.require: Go's
//     go_js_wasm_exec, which runs `GOOS=js go test`): the package directory
//     $AMQPJS_ESBUILD, else node_modules/esbuild or
//     wasm/host/node_modules/esbuild in the working directory or one of
//     its parents.
//
// Without one, transform fails with an error that says how to install it.

// esbuildHook is the global the host sets (see above).
const esbuildHook = "__amqpjs_esbuild"

var esbuildJS struct {
	sync.Mutex
	mod js.Value // the esbuild module, once found
}

// errNoEsbuild is the hint of every error of a missing esbuild.
const errNoEsbuild = "amqpjs (wasm): the esbuild package " + esbuildVersion + " is needed to run scripts: npm install in wasm/host"

func esbuildModule() (js.Value, error) {
	esbuildJS.Lock()
	defer esbuildJS.Unlock()
	if esbuildJS.mod.Truthy() {
		return esbuildJS.mod, nil
	}
	mod, err := findEsbuild()
	if err != nil {
		return js.Undefined(), err
	}
	if mod.Type() != js.TypeObject || mod.Get("transformSync").Type() != js.TypeFunction {
		return js.Undefined(), errors.New(errNoEsbuild + " (what was found is not esbuild: no transformSync)")
	}
	if v := mod.Get("version"); v.Type() != js.TypeString || v.String() != esbuildVersion {
		return js.Undefined(), fmt.Errorf("amqpjs (wasm): esbuild %s is needed to run scripts, found %s: npm ci in wasm/host", esbuildVersion, v.String())
	}
	esbuildJS.mod = mod
	return mod, nil
}

// findEsbuild returns the esbuild module, or an error (never a panic).
func findEsbuild() (mod js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			// The first line: not Node's "Require stack". The host's
			// own error (index.mjs) says it all.
			msg, _, _ := strings.Cut(thrownMessage(r), "\n")
			if !strings.HasPrefix(msg, "amqpjs (wasm):") {
				msg = errNoEsbuild + " (loading it failed: " + msg + ")"
			}
			mod, err = js.Undefined(), errors.New(msg)
		}
	}()
	global := js.Global()
	if hook := global.Get(esbuildHook); hook.Type() == js.TypeFunction {
		return hook.Invoke(), nil
	}
	require := global.Get("require")
	if require.Type() != js.TypeFunction {
		return js.Undefined(), errors.New(errNoEsbuild + " (load amqpjs.wasm with the host package, wasm/host/index.mjs)")
	}
	if dir := os.Getenv("AMQPJS_ESBUILD"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return js.Undefined(), fmt.Errorf("amqpjs (wasm): AMQPJS_ESBUILD: %v", err)
		}
		return require.Invoke(abs), nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return js.Undefined(), fmt.Errorf("%s (or set AMQPJS_ESBUILD to the package's directory): %v", errNoEsbuild, err)
	}
	for dir := wd; ; {
		for _, p := range []string{"node_modules/esbuild", "wasm/host/node_modules/esbuild"} {
			pkg := filepath.Join(dir, filepath.FromSlash(p))
			if _, err := os.Stat(filepath.Join(pkg, "package.json")); err == nil {
				return require.Invoke(pkg), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return js.Undefined(), fmt.Errorf("%s (or set AMQPJS_ESBUILD to the package's directory; none in %s or its parents)", errNoEsbuild, wd)
}

// thrownMessage is the text of what a JavaScript call threw (recovered from
// syscall/js's panic).
func thrownMessage(r any) string {
	if e, ok := r.(js.Error); ok {
		if e.Value.Type() == js.TypeObject {
			if m := e.Value.Get("message"); m.Type() == js.TypeString {
				return m.String()
			}
		}
		return e.Value.String()
	}
	return fmt.Sprint(r)
}

// esTransform runs the host's esbuild: transformSync(src, options).
func esTransform(src string, o esOptions) (res esResult, err error) {
	mod, err := esbuildModule()
	if err != nil {
		return res, err
	}
	supported := make(map[string]any, len(o.supported))
	for k, v := range o.supported {
		supported[k] = v
	}
	opts := map[string]any{
		"loader":     o.loader,
		"sourcefile": o.sourcefile,
		"sourcemap":  "external",
		"target":     "es2020",
		"supported":  supported,
		"logLevel":   "silent",
	}
	if o.format != "" {
		opts["format"] = o.format
	}
	defer func() {
		if r := recover(); r != nil {
			res, err = esResult{}, nil
			if e, ok := r.(js.Error); ok && e.Value.Type() == js.TypeObject {
				// transformSync throws when the source does not compile:
				// an Error whose errors are esbuild's messages.
				if msgs := e.Value.Get("errors"); msgs.InstanceOf(js.Global().Get("Array")) && msgs.Length() > 0 {
					res.errors = jsMessages(msgs)
					return
				}
			}
			err = fmt.Errorf("amqpjs (wasm): esbuild: %s", thrownMessage(r))
		}
	}()
	out := mod.Call("transformSync", src, opts)
	res.code = out.Get("code").String()
	if m := out.Get("map"); m.Type() == js.TypeString {
		res.sourceMap = []byte(m.String())
	}
	return res, nil
}

// jsMessages converts esbuild's JS messages ({ text, location: { line,
// column, lineText } | null }) into esMessage's.
func jsMessages(msgs js.Value) []esMessage {
	out := make([]esMessage, msgs.Length())
	for i := range out {
		m := msgs.Index(i)
		out[i].text = m.Get("text").String()
		if l := m.Get("location"); l.Type() == js.TypeObject {
			out[i].location = &esLocation{line: l.Get("line").Int(), column: l.Get("column").Int(), lineText: l.Get("lineText").String()}
		}
	}
	return out
}
