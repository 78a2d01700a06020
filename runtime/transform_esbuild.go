//go:build !js

package runtime

import "github.com/evanw/esbuild/pkg/api"

// esTransform runs esbuild's Go API (linked in: the native and wasip1
// builds). Under GOOS=js the JavaScript host's esbuild does it instead
// (transform_js.go), keeping ~8 MB of esbuild out of amqpjs.wasm.
func esTransform(src string, o esOptions) (esResult, error) {
	opts := api.TransformOptions{
		Loader:     api.LoaderJS,
		Sourcefile: o.sourcefile,
		Sourcemap:  api.SourceMapExternal,
		Target:     api.ES2020,
		Supported:  o.supported,
		LogLevel:   api.LogLevelSilent,
	}
	if o.loader == "ts" {
		opts.Loader = api.LoaderTS
	}
	switch o.format {
	case "cjs":
		opts.Format = api.FormatCommonJS
	case "esm":
		opts.Format = api.FormatESModule
	}
	res := api.Transform(src, opts)
	out := esResult{code: string(res.Code), sourceMap: res.Map}
	for _, m := range res.Errors {
		e := esMessage{text: m.Text}
		if m.Location != nil {
			e.location = &esLocation{line: m.Location.Line, column: m.Location.Column, lineText: m.Location.LineText}
		}
		out.errors = append(out.errors, e)
	}
	return out, nil
}
