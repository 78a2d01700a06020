/*
Package amqpjs embeds amqpjs in a Go program: it runs JavaScript (and
TypeScript) scripts that use the "aioamqp" module — Python aioamqp's API, see
docs/api.md — against RabbitMQ, inside the host process. A test harness, an
operator or a service's self-test can run the same scenario files that
`amqpjs run` runs, give them their own native modules, and read back the
result.

This package is a facade over two lower-level packages, which it does not
replace: [github.com/amqpjs/amqpjs/runtime] (the engine, its event loop and
built-in modules) and [github.com/amqpjs/amqpjs/bindings] (the aioamqp
module). It exists so that a host needs neither goja nor the loop's rules to
do the common things; [Runtime.Runtime] hands out the lower level when it
does. Import it as "github.com/amqpjs/amqpjs/pkg/amqpjs": the package
is named after the project, and it lives under pkg/ because a folder
"amqpjs" at the module root would collide with the binary that `go build .`
writes there.

# A runtime

[New] makes a [Runtime] from [Options]: where console output goes, the
environment and arguments the script sees, the AMQP URL whose parts are
connect()'s defaults, a custom dialer for broker connections and a logger.
The aioamqp module is always registered; [Runtime.RegisterModule] adds the
host's own native modules. A Runtime runs one thing, once: a file
([Runtime.RunFile]), a source string ([Runtime.RunSource]), or a live session
([Runtime.Start], then [Runtime.Eval] any number of times, then
[Runtime.Close]). Make a new Runtime for the next run.

A run follows Node's lifetime rule: it ends when the main script has
finished and nothing is pending — no timer, no open connection, no unsettled
promise of a host module. Cancelling the run's context interrupts the
script at once (even in a busy loop), runs its shutdown (every open AMQP
connection is closed, with a 2-second grace) and ends the run with an
[*InterruptedError].

# Scenarios and the REPL

With [Options].Scenario set, a script whose exports have a default function
or options.scenarios runs as a load or test scenario, as `amqpjs run` runs
it: virtual users (each a runtime made from the same Options, with the host
modules), thresholds and the end-of-test summary; see [ScenarioOptions] and
[ScenarioError]. [REPL] runs the session of `amqpjs repl`. The amqpjs
command is built on this package: its run and repl commands, and the
WebAssembly module, go through it.

# Errors and exit codes

A run returns nil, or one of: [*ScriptError] (an uncaught exception or an
unhandled rejection, with the JavaScript stack), [*SyntaxError] (with the
position), [*ExitError] (process.exit(n) or process.exitCode with n ≠ 0),
[*InterruptedError] (the context ended: cancelled, timed out, or
[Runtime.Close]), [*ScenarioError], or a host-side error such as an
*fs.PathError. [ExitCode] maps any of them to the exit code `amqpjs run`
would give, and [Message] to the line it prints.

# Goroutines

Every Runtime has its own JavaScript engine and event loop; runtimes share no
state, and any number may run side by side in one process. The methods of
[Runtime] may be called from any goroutine, except on the runtime's own loop
goroutine (from inside a host module's function) where the waiting ones
(RunFile, RunSource, Eval, Close) would deadlock. A host module's [Func] and
[ModuleFunc] run on the loop goroutine; a [Promise] may be settled from any
goroutine.

See docs/embedding.md for a guide, and the examples.
*/
package amqpjs
