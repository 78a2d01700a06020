package amqpjs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

// Exit codes of `amqpjs run` (docs/api.md §1), as [ExitCode] returns them.
const (
	ExitOK          = runtime.ExitOK          // the run succeeded
	ExitFailure     = runtime.ExitFailure     // uncaught error, unhandled rejection, timeout
	ExitUsage       = runtime.ExitUsage       // syntax error, unreadable script
	ExitInterrupted = runtime.ExitInterrupted // cancelled or closed
	ExitInternal    = runtime.ExitInternal    // a Go panic inside amqpjs (an *InternalError)
)

// SyntaxError is a script (or a module it imports) that does not parse:
// File, 1-based Line, 0-based Column (in bytes), Message and the source line
// (Text). Its Error text is the position, the message, the line and a caret.
type SyntaxError = runtime.SyntaxError

// ExitError is a run that ended with a non-zero exit code chosen by the
// script: process.exit(Code), or process.exitCode left set. process.exit(0)
// is a success (nil), not an ExitError.
type ExitError = runtime.ExitError

// InternalError is a Go panic inside amqpjs (a defect of amqpjs, not of the
// script), caught on the runtime's loop: the run ends with it and the
// runtime is closed. Where names what panicked, StackFile the file holding
// the Go stack; Error is one line for a log.
type InternalError = runtime.InternalError

// ScriptError is a JavaScript value thrown and not caught: an uncaught
// exception (in the main script, a timer, a consumer callback…), or an
// unhandled promise rejection (InPromise). It is made on the loop, so its
// fields are plain Go values, safe to read from any goroutine.
type ScriptError struct {
	// Name and Message of the thrown Error ("TypeError", "x is not a
	// function"; "ChannelClosed", …); for a thrown value that is not an
	// Error, Name is "" and Message is the value as inspect shows it.
	Name, Message string
	// Stack is the JavaScript stack, Node-style, with file:line:col of
	// the script's own source ("" for a thrown non-Error). For an error
	// of the aioamqp module, it is the script's stack at the call that
	// caused it (docs/api-notes.md, "Where an error points").
	Stack string
	// Position is where in the script the error points: the top frame
	// of Stack (for an aioamqp error, the call that caused it, such as
	// the queue_declare whose passive check failed; for on_error,
	// connect()). Zero when the stack names no position.
	Position Position
	// Value is the thrown value exported to Go (goja's Export: a string,
	// number, map…); nil for an Error object, whose fields are above.
	Value any
	// InPromise tells an unhandled rejection from a throw.
	InPromise bool

	text string // what `amqpjs run` prints
	err  error  // the runtime's error
}

// Error returns what `amqpjs run` prints on stderr for this error: the
// source line with a caret when known, then "Uncaught " (or "Uncaught (in
// promise) ") and the stack with any extra fields of the error (such as an
// AMQP code).
func (e *ScriptError) Error() string { return e.text }

// Unwrap returns the runtime's error (*goja.Exception,
// *runtime.UncaughtError or *runtime.UnhandledRejectionError), for hosts
// that need the goja value; read that value only while the runtime's loop
// is stopped or on the loop.
func (e *ScriptError) Unwrap() error { return e.err }

// Position is a place in a script's source: File as the stack names it,
// 1-based Line and Column (as printed in stacks).
type Position struct {
	File         string
	Line, Column int
}

// String returns "file:line:col", or "" for the zero Position.
func (p Position) String() string {
	if p.File == "" && p.Line == 0 {
		return ""
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Column)
}

// stackPosition is the position of the first frame of a Node-style stack.
func stackPosition(stack string) Position {
	file, line, col, ok := runtime.StackPosition(stack)
	if !ok {
		return Position{}
	}
	return Position{File: file, Line: line, Column: col}
}

// InterruptedError is a run (or an Eval) ended by its context: cancelled,
// past its deadline, or closed with [Runtime.Close] (cause [ErrClosed]).
// The script was interrupted wherever it was and its connections closed.
type InterruptedError struct {
	// Cause is context.Cause of the context that ended: context.Canceled,
	// context.DeadlineExceeded, ErrClosed, or the host's own cause.
	Cause error
}

// Error says the run was interrupted, and why.
func (e *InterruptedError) Error() string {
	if e.Timeout() {
		return "amqpjs: run timed out: " + e.Cause.Error()
	}
	return "amqpjs: run interrupted: " + e.Cause.Error()
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded)
// works.
func (e *InterruptedError) Unwrap() error { return e.Cause }

// Is reports whether target is [runtime.ErrInterrupted] and the run did
// not time out: every interruption but a timeout is that one sentinel.
func (e *InterruptedError) Is(target error) bool {
	return target == runtime.ErrInterrupted && !e.Timeout()
}

// Timeout reports whether the run ended because of a deadline
// (context.DeadlineExceeded, or a [runtime.TimeoutError] cause, as
// `amqpjs run --timeout` uses).
func (e *InterruptedError) Timeout() bool {
	var te *runtime.TimeoutError
	return errors.Is(e.Cause, context.DeadlineExceeded) || errors.As(e.Cause, &te)
}

// ExitCode maps the error of a run to the exit code `amqpjs run` gives it
// (the CLI uses this function): 0 for nil; 70 for an [*InternalError]; the
// Code of a [*ScenarioError] or an [*ExitError]; 2 for a [*SyntaxError] or
// a script that cannot be read (fs errors); 1 for a [*ScriptError] or a
// timeout; 130 for any other [*InterruptedError]; 1 for anything else. It
// is [runtime.ExitCode], the one mapping of amqpjs.
func ExitCode(err error) int { return runtime.ExitCode(err) }

// TimeoutError is the cause `amqpjs run --timeout` gives the run's
// context; a run that ends with it is a timeout (exit code 1).
type TimeoutError = runtime.TimeoutError

// Version is the amqpjs version.
func Version() string { return runtime.Version }

// Message returns what `amqpjs run` prints on stderr for a run's error, or
// "" when it prints nothing (nil, process.exit, a scenario, whose messages
// and summary are already written): the error with its stack or source
// line, "amqpjs: interrupted", "amqpjs: run timed out after …", the line of
// an internal error, "amqpjs run: cannot open script …".
func Message(err error) string {
	var ee *ExitError
	var sc *ScenarioError
	var ie *InterruptedError
	var pe *fs.PathError
	var ne *InternalError
	switch {
	case err == nil, errors.As(err, &ee), errors.As(err, &sc):
		return ""
	case errors.As(err, &ne):
		return "amqpjs: " + ne.Error()
	case errors.As(err, &ie):
		var te *TimeoutError
		switch {
		case errors.As(ie.Cause, &te):
			return "amqpjs: " + te.Error()
		case ie.Timeout():
			return "amqpjs: run timed out: " + ie.Cause.Error()
		case errors.Is(ie.Cause, runtime.ErrInterrupted):
			return "amqpjs: interrupted"
		}
		return "amqpjs: interrupted: " + ie.Cause.Error()
	case errors.As(err, &pe):
		msg := "no such file"
		if !errors.Is(err, fs.ErrNotExist) {
			msg = pe.Err.Error()
		}
		return fmt.Sprintf("amqpjs run: cannot open script '%s': %s", pe.Path, msg)
	}
	var se *ScriptError
	var sy *SyntaxError
	if errors.As(err, &se) || errors.As(err, &sy) {
		return err.Error()
	}
	return "amqpjs: " + err.Error()
}

// scriptError makes a *ScriptError (or the *SyntaxError of a module that
// did not parse) of a thrown value. On the loop, or once it has stopped.
func (r *Runtime) scriptError(err error) error {
	var v goja.Value
	inPromise := false
	var ex *goja.Exception
	var ue *runtime.UncaughtError
	var ur *runtime.UnhandledRejectionError
	switch {
	case errors.As(err, &ur):
		v, inPromise = ur.Reason, true
	case errors.As(err, &ue):
		v = ue.Value
	case errors.As(err, &ex):
		v = ex.Value()
	default:
		return err
	}
	e := &ScriptError{InPromise: inPromise, err: err, text: r.rt.FormatError(err)}
	if o, ok := v.(*goja.Object); ok {
		if s := o.Get("__amqpjs_syntax"); s != nil {
			if se, ok := s.Export().(*runtime.SyntaxError); ok {
				return se
			}
		}
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			e.Name = stringProp(o, "name")
			e.Message = stringProp(o, "message")
			e.Stack = runtime.CleanStack(st.String())
			e.Position = stackPosition(e.Stack)
			return e
		}
	}
	if v != nil {
		e.Value = v.Export()
		e.Message = r.rt.Inspect(v, false)
	}
	return e
}

func stringProp(o *goja.Object, name string) string {
	v := o.Get(name)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return ""
	}
	return v.String()
}
