package runtime

import (
	"context"
	"os"
	"path/filepath"

	"github.com/dop251/goja"
)

// DefaultSourceName is the name [Runtime.RunSource] gives a source passed
// without one.
const DefaultSourceName = "main.js"

// memSource is the main module of a RunSource: its source is served to the
// module loader (and to error excerpts) instead of a file of that path.
type memSource struct {
	path string
	src  []byte
}

// RunSource runs src as the main module, then the event loop, exactly as
// [Runtime.RunFile] runs a file: CommonJS, ES modules, TypeScript and
// top-level await all work, and the lifetime, errors and exit codes are the
// same. name stands for the file's path: made absolute against the working
// directory, it names the module in stack traces and error messages, its
// extension picks the syntax (".ts" strips types; "" or ".js" is
// JavaScript), and relative require/import resolve against its directory
// (those files are read from disk). No file is read for name itself. An
// empty name is [DefaultSourceName].
//
// Like RunFile, it must be called once per Runtime, from any goroutine that
// then becomes the loop goroutine until it returns; ctx ending interrupts
// the script and ends the run with context.Cause(ctx).
func (r *Runtime) RunSource(ctx context.Context, name, src string) (*goja.Object, error) {
	return r.RunSourceThen(ctx, name, src, nil)
}

// RunSourceThen is [Runtime.RunSource] with the hook of
// [Runtime.RunFileThen]: then (optional) runs on the loop once the main
// module has finished loading, with its exports.
func (r *Runtime) RunSourceThen(ctx context.Context, name, src string, then func(vm *goja.Runtime, exports *goja.Object) error) (*goja.Object, error) {
	if name == "" {
		name = DefaultSourceName
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	r.mainSrc = &memSource{path: abs, src: []byte(src)}
	return r.RunFileThen(ctx, abs, then)
}

// readSource returns the source of path: RunSource's main module, or the
// file. Loop only.
func (r *Runtime) readSource(path string) ([]byte, error) {
	if m := r.mainSrc; m != nil && m.path == path {
		return m.src, nil
	}
	return os.ReadFile(path)
}
