// Package types holds the TypeScript definitions of the runtime's globals
// and built-in modules — globals.d.ts (console, timers, process,
// TextEncoder, URL, require…), buffer.d.ts (Buffer and 'buffer'),
// modules.d.ts (assert, util, timers/promises, url) and metrics.d.ts
// ('amqpjs/metrics', __VU, __ITER and the shape of a scenario's options) —
// so that `.ts` scenarios get editor completion. The aioamqp module's
// definitions are in package github.com/amqpjs/amqpjs/bindings/types. The
// tests of this package keep the definitions in step with a real runtime.
package types

import "embed"

// FS holds the .d.ts files. It is read-only and safe for concurrent use.
//
//go:embed *.d.ts
var FS embed.FS
