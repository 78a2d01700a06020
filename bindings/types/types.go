// Package types holds the TypeScript definitions of the aioamqp module,
// aioamqp.d.ts, next to the bindings they describe, so that `.ts` scenarios
// (and `.js` ones, with checkJs) get editor completion and type checks. The
// definitions of the runtime's globals and built-in modules, which
// aioamqp.d.ts relies on (Buffer), are in package
// github.com/amqpjs/amqpjs/runtime/types. The tests of this package keep
// aioamqp.d.ts in step with the bindings: every function, property,
// option and exception class the module exposes is declared, and nothing
// else.
package types

import "embed"

// FS holds aioamqp.d.ts. It is read-only and safe for concurrent use.
//
//go:embed *.d.ts
var FS embed.FS
