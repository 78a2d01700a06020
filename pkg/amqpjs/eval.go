package amqpjs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"

	"github.com/amqpjs/amqpjs/runtime"
)

// evalName names evaluated code in stack traces; the runtime's stack
// cleaner leaves its (already 1-based) columns as they are.
const evalName = "<eval>"

type evalResult struct {
	v   any
	err error
}

// Eval evaluates src in the running runtime — a live one ([Runtime.Start])
// or one inside RunFile/RunSource — as a script in the global scope, like a
// line typed at the REPL: top-level declarations stay visible to later
// Evals, require() works and the aioamqp module and host modules are there.
// The result is the value of the last expression statement, exported to Go
// (goja's Export: nil for undefined and null, string, int64 or float64,
// bool, map[string]any, []any, []byte for a Buffer…). When that value is a
// promise, Eval waits for it and returns what it resolves to.
//
// src is JavaScript (no TypeScript, no import statements: use require). A
// source that uses await at top level runs as the body of an async
// function: its declarations are then local to it, and its value is what it
// returns (`return await ch.queue_declare('jobs')`).
//
// A thrown exception or a rejected result is a [*ScriptError] and leaves the
// runtime running; a source that does not parse is a [*SyntaxError]. When
// ctx ends first, Eval returns an [*InterruptedError]: code still running
// synchronously is interrupted (best effort, [runtime.Loop.InterruptTask]),
// a promise is left to settle on its own. Once the runtime has ended, Eval
// returns an error wrapping [ErrClosed]. Any goroutine but the loop's.
func (r *Runtime) Eval(ctx context.Context, src string) (any, error) {
	r.mu.Lock()
	started := r.started
	r.mu.Unlock()
	if !started {
		return nil, ErrNotRunning
	}
	loop := r.rt.Loop()
	out := make(chan evalResult, 1)
	var running atomic.Bool
	queued := loop.RunOnLoop(func(vm *goja.Runtime) {
		running.Store(true)
		v, err := r.evalOnLoop(vm, src)
		running.Store(false)
		if err != nil {
			var ie *goja.InterruptedError
			if errors.As(err, &ie) {
				// process.exit, Close, or our own interrupt: the run's
				// end or ctx tells the caller.
				return
			}
			out <- evalResult{err: r.evalError(err)}
			return
		}
		if p, ok := v.Export().(*goja.Promise); ok {
			r.awaitEval(vm, p, out)
			return
		}
		out <- evalResult{v: export(v)}
	})
	if !queued {
		return nil, r.endedError()
	}
	select {
	case res := <-out:
		return res.v, res.err
	case <-ctx.Done():
		if running.Load() {
			loop.InterruptTask()
		}
		return nil, &InterruptedError{Cause: context.Cause(ctx)}
	case <-r.done:
		select {
		case res := <-out:
			return res.v, res.err
		default:
		}
		return nil, r.endedError()
	}
}

func (r *Runtime) endedError() error {
	<-r.done
	if err := r.Err(); err != nil {
		var ie *InterruptedError
		if errors.As(err, &ie) && errors.Is(ie.Cause, ErrClosed) {
			return ErrClosed
		}
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return ErrClosed
}

// evalOnLoop compiles and runs src. Loop only.
func (r *Runtime) evalOnLoop(vm *goja.Runtime, src string) (goja.Value, error) {
	prg, err := goja.Compile(evalName, src, false)
	if err != nil && strings.Contains(src, "await") {
		// Top-level await: run the source as an async function's body.
		if p, err2 := goja.Compile(evalName, asyncBody(src), false); err2 == nil {
			prg, err = p, nil
		}
	}
	if err != nil {
		return nil, compileError(err, src)
	}
	return vm.RunProgram(prg)
}

// awaitEval sends what p settles to. The loop stays alive meanwhile. Loop
// only.
func (r *Runtime) awaitEval(vm *goja.Runtime, p *goja.Promise, out chan<- evalResult) {
	ref := r.rt.Loop().Ref()
	then, _ := goja.AssertFunction(vm.ToValue(p).ToObject(vm).Get("then"))
	_, err := then(vm.ToValue(p),
		vm.ToValue(func(call goja.FunctionCall) goja.Value {
			ref.Close()
			out <- evalResult{v: export(call.Argument(0))}
			return goja.Undefined()
		}),
		vm.ToValue(func(call goja.FunctionCall) goja.Value {
			ref.Close()
			out <- evalResult{err: r.evalError(&runtime.UncaughtError{Value: call.Argument(0)})}
			return goja.Undefined()
		}))
	if err != nil {
		ref.Close()
		out <- evalResult{err: r.evalError(err)}
	}
}

func (r *Runtime) evalError(err error) error {
	var se *runtime.SyntaxError
	if errors.As(err, &se) {
		return se
	}
	return r.scriptError(err)
}

// compileError turns goja's compile error into a *SyntaxError.
func compileError(err error, src string) error {
	var ce *goja.CompilerSyntaxError
	if !errors.As(err, &ce) {
		return err
	}
	se := &runtime.SyntaxError{File: evalName, Message: ce.Message, Line: 1}
	if ce.File != nil {
		pos := ce.File.Position(ce.Offset)
		se.Line, se.Column = pos.Line, pos.Column-1
		if lines := strings.Split(src, "\n"); pos.Line >= 1 && pos.Line <= len(lines) {
			se.Text = strings.TrimRight(lines[pos.Line-1], "\r")
		}
	}
	if se.Column < 0 {
		se.Column = 0
	}
	return se
}

// export converts a result for the host: goja's Export, undefined as nil.
func export(v goja.Value) any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return v.Export()
}

// asyncBody wraps src, which awaits at top level, in an async function
// called at once, opened on src's first line so that line numbers stay
// right. When the body ends with an expression statement, that statement is
// returned, so the value is the same as a script's completion value.
func asyncBody(src string) string {
	const head = "(async () => {"
	wrapped := head + src + "\n})()"
	prog, err := parser.ParseFile(nil, evalName, wrapped, 0)
	if err != nil || len(prog.Body) != 1 {
		return wrapped
	}
	es, ok := prog.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return wrapped
	}
	call, ok := es.Expression.(*ast.CallExpression)
	if !ok {
		return wrapped
	}
	fn, ok := call.Callee.(*ast.ArrowFunctionLiteral)
	if !ok {
		return wrapped
	}
	body, ok := fn.Body.(*ast.BlockStatement)
	if !ok || len(body.List) == 0 {
		return wrapped
	}
	last, ok := body.List[len(body.List)-1].(*ast.ExpressionStatement)
	if !ok {
		return wrapped
	}
	// Insert "return " at the first token after the previous statement
	// (not at the expression, which may start after a parenthesis).
	from := int(body.LeftBrace) // 1-based index of "{": the 0-based index just past it
	if n := len(body.List); n > 1 {
		from = int(body.List[n-2].Idx1()) - 1
	}
	at := skipSpaceAndComments(wrapped, from)
	if at < 0 || at > int(last.Idx0())-1 {
		return wrapped
	}
	return wrapped[:at] + "return " + wrapped[at:]
}

// skipSpaceAndComments returns the index of the first byte at or after i
// that is not white space, a semicolon or inside a comment.
func skipSpaceAndComments(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == ';':
			i++
		case strings.HasPrefix(s[i:], "//"):
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return -1
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return -1
			}
			i += j + 4
		default:
			return i
		}
	}
	return -1
}
