// Package bindings is the JavaScript API of amqpjs: the "aioamqp" module of
// API.md, over the Go session layer in package amqp.
package bindings

import (
	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

// ModuleName is the name scripts require/import.
const ModuleName = "aioamqp"

// Options configure the module for one runtime.
type Options struct {
	// Defaults from --url / AMQP_URL; nil means aioamqp's defaults.
	Defaults *ConnectDefaults
}

// Register installs the aioamqp module in rt. Call before rt runs.
func Register(rt *runtime.Runtime, opts Options) {
	m := &module{rt: rt, opts: opts}
	rt.RegisterModule(ModuleName, m.load)
}

type module struct {
	rt   *runtime.Runtime
	opts Options
}

func (m *module) load(vm *goja.Runtime, module *goja.Object) {
	exports := module.Get("exports").(*goja.Object)
	_ = exports.Set("version", runtime.Version)
	for i, name := range []string{"CONNECTING", "OPEN", "CLOSING", "CLOSED"} {
		_ = exports.Set(name, i)
	}
}
