package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// Exit codes of docs/api.md §1.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitInterrupted = 130
	// ExitInternal (70) is in internal.go.
)

// ErrInterrupted is the cause given to a run's context to interrupt it (as
// Ctrl-C does to `amqpjs run`): [ExitCode] maps it, and any error that is
// it by errors.Is, to 130. It is the one "interrupted" of amqpjs: the
// facade's InterruptedError is it, unless it is a timeout.
var ErrInterrupted = errors.New("interrupted")

// TimeoutError is the cause given to the run context by --timeout.
type TimeoutError struct{ After time.Duration }

// Error says after how long the run was stopped.
func (e *TimeoutError) Error() string {
	return fmt.Sprintf("run timed out after %s (--timeout)", e.After)
}

// ExitCoder is an error that chooses its exit code (a scenario's end,
// whose reasons were already written with its summary).
type ExitCoder interface {
	error
	ExitCode() int
}

// ExitCode maps the error of a run to the process exit code of docs/api.md
// §1; it is the one mapping of amqpjs (the CLI, the REPL, scenarios, the
// facade and the wasm module use it):
//
//   - 0 for nil;
//   - 70 for an [*InternalError] (a Go panic inside amqpjs);
//   - the code an [ExitCoder] chooses (a scenario: 99 thresholds failed…);
//   - the code of an [*ExitError] (process.exit(n), process.exitCode);
//   - 2 for a [*SyntaxError] (also one thrown by an import) or a script
//     that cannot be read (*fs.PathError);
//   - 1 for a timeout ([*TimeoutError] or context.DeadlineExceeded);
//   - 130 for an interrupted run ([ErrInterrupted], context.Canceled);
//   - 1 for anything else (an uncaught exception, an unhandled rejection).
//
// For a nil error it does not read process.exitCode: see
// [Runtime.ExitCodeOf].
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ie *InternalError
	var ec ExitCoder
	var ee *ExitError
	var se *SyntaxError
	var pe *fs.PathError
	var te *TimeoutError
	switch {
	case errors.As(err, &ie):
		return ExitInternal
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &se), errors.As(err, &pe):
		return ExitUsage
	case errors.As(err, &te), errors.Is(err, context.DeadlineExceeded):
		return ExitFailure
	case errors.Is(err, ErrInterrupted), errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	if v := thrownValue(err); v != nil {
		if se := syntaxOf(v); se != nil {
			return ExitUsage
		}
	}
	return ExitFailure
}

// ExitCodeOf is [ExitCode], with process.exitCode for a nil error. Loop
// goroutine or after Run returned.
func (r *Runtime) ExitCodeOf(err error) int {
	if err == nil {
		return r.ExitCode()
	}
	return ExitCode(err)
}

func thrownValue(err error) goja.Value {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return ex.Value()
	}
	var ue *UncaughtError
	if errors.As(err, &ue) {
		return ue.Value
	}
	var ur *UnhandledRejectionError
	if errors.As(err, &ur) {
		return ur.Reason
	}
	return nil
}

func syntaxOf(v goja.Value) *SyntaxError {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil
	}
	s := o.Get("__amqpjs_syntax")
	if s == nil {
		return nil
	}
	se, _ := s.Export().(*SyntaxError)
	return se
}

// FormatError renders a run's error for stderr: the JS stack with
// file:line:col for uncaught errors, the source line and a caret for syntax
// errors. It returns "" for errors that print nothing (process.exit).
// Loop goroutine or after Run returned.
func (r *Runtime) FormatError(err error) string {
	if err == nil {
		return ""
	}
	var ee *ExitError
	var se *SyntaxError
	var ie *InternalError
	switch {
	case errors.As(err, &ie):
		return "amqpjs: " + ie.Error()
	case errors.As(err, &ee):
		return ""
	case errors.As(err, &se):
		return se.Error()
	case errors.Is(err, ErrInterrupted):
		return "amqpjs: interrupted"
	case errors.Is(err, context.Canceled):
		return "amqpjs: cancelled"
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		return "amqpjs: " + te.Error()
	}
	v := thrownValue(err)
	if v == nil {
		return "amqpjs: " + err.Error()
	}
	if se := syntaxOf(v); se != nil {
		return se.Error()
	}
	var prefix string
	var ur *UnhandledRejectionError
	if errors.As(err, &ur) {
		prefix = "Uncaught (in promise) "
	} else {
		prefix = "Uncaught "
	}
	var ex *goja.Exception
	where := ""
	if errors.As(err, &ex) {
		where = r.sourceExcerpt(ex)
	}
	return where + prefix + describeValue(r.vm, v)
}

var pcSuffix = regexp.MustCompile(`([^\s(]*):(\d+):(\d+)\(\d+\)`)

// goNativeFrame matches a stack line of a Go function exposed to JS: goja
// names it after the Go symbol ("github.com/…/runtime.(*Runtime).jsRequire-fm").
var goNativeFrame = regexp.MustCompile(`(?m)^\s*at (?:[^\s()]*/|main\.)\S* \(native\)\n?`)

// internalFrame matches a stack line of amqpjs's own JS ("amqpjs:…" files:
// the aioamqp exceptions and prelude, util, assert).
var internalFrame = regexp.MustCompile(`(?m)^[ \t]*at (?:[^\n(]*\()?amqpjs:[^\n]*\n?`)

// CleanStack rewrites goja's stack lines ("\tat f (file:1:2(34))") to
// Node's ("    at f (file:1:3)"). Positions of user files come through
// esbuild's source maps, for which goja reports 0-based columns; they are
// made 1-based like Node's. Frames of Go functions are dropped: their Go
// symbol names mean nothing to a script's author; so are frames of amqpjs's
// own JS files ("amqpjs:…"): an error of the aioamqp module carries the
// script's frames of the call that caused it instead (docs/api-notes.md).
func CleanStack(s string) string {
	s = goNativeFrame.ReplaceAllString(s, "")
	s = internalFrame.ReplaceAllString(s, "")
	s = pcSuffix.ReplaceAllStringFunc(s, func(m string) string {
		sub := pcSuffix.FindStringSubmatch(m)
		col := sub[3]
		if !strings.HasPrefix(sub[1], "amqpjs:") && sub[1] != "<eval>" {
			if n, err := strconv.Atoi(col); err == nil {
				col = strconv.Itoa(n + 1)
			}
		}
		return sub[1] + ":" + sub[2] + ":" + col
	})
	return strings.ReplaceAll(s, "\tat ", "    at ")
}

// StackPosition returns the position of the first frame of a Node-style
// stack (as CleanStack makes it: "    at f (file:1:2)" or "    at file:1:2"):
// the file, the 1-based line and column, and whether there was one. For an
// error of the aioamqp module, it is where the script made the call that
// caused it.
func StackPosition(stack string) (file string, line, col int, ok bool) {
	for _, l := range strings.Split(stack, "\n") {
		rest, found := strings.CutPrefix(strings.TrimSpace(l), "at ")
		if !found {
			continue
		}
		if strings.HasSuffix(rest, ")") {
			if i := strings.LastIndex(rest, " ("); i >= 0 {
				rest = rest[i+2 : len(rest)-1]
			}
		}
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			continue
		}
		j := strings.LastIndexByte(rest[:i], ':')
		if j < 0 {
			continue
		}
		ln, err1 := strconv.Atoi(rest[j+1 : i])
		c, err2 := strconv.Atoi(rest[i+1:])
		if err1 != nil || err2 != nil {
			continue
		}
		return rest[:j], ln, c, true
	}
	return "", 0, 0, false
}

// describeValue renders a thrown value: an Error's stack (with any extra own
// properties, e.g. an AMQP code), or the inspected value.
func describeValue(vm *goja.Runtime, v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
			s := CleanStack(st.String())
			extra := []string{}
			for _, k := range o.Keys() {
				if k == "stack" || k == "message" {
					continue
				}
				extra = append(extra, k+": "+shortValue(o.Get(k)))
			}
			if len(extra) > 0 {
				s = strings.TrimRight(s, "\n") + " {\n  " + strings.Join(extra, ",\n  ") + "\n}"
			}
			return strings.TrimRight(s, "\n")
		}
	}
	if inspect, ok := goja.AssertFunction(vm.Get("__amqpjs_inspect")); ok {
		if s, err := inspect(goja.Undefined(), v); err == nil {
			return s.String()
		}
	}
	if s, ok := v.Export().(string); ok {
		return strconv.Quote(s)
	}
	return v.String()
}

func shortValue(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if s, ok := v.Export().(string); ok {
		return "'" + s + "'"
	}
	return v.String()
}

// sourceExcerpt returns "file:line\n<source line>\n<caret>\n\n" for the top
// frame of ex, read from the user's file, or "" when it cannot.
func (r *Runtime) sourceExcerpt(ex *goja.Exception) string {
	frames := ex.Stack()
	for _, f := range frames {
		pos := f.Position()
		if pos.Filename == "" || pos.Line <= 0 || strings.HasPrefix(pos.Filename, "amqpjs:") {
			continue
		}
		src, err := r.readSource(pos.Filename)
		if err != nil {
			return ""
		}
		lines := strings.Split(string(src), "\n")
		if pos.Line > len(lines) {
			return ""
		}
		line := strings.TrimRight(lines[pos.Line-1], "\r")
		col := pos.Column // 0-based for source-mapped files (see CleanStack)
		if col < 0 || col > len(line) {
			col = 0
		}
		return fmt.Sprintf("%s:%d\n%s\n%s^\n\n", pos.Filename, pos.Line, line, strings.Repeat(" ", col))
	}
	return ""
}

func formatFloat(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }
func formatInt(i int64) string               { return strconv.FormatInt(i, 10) }
func goosName() string                       { return goruntime.GOOS }

func memoryUsage() map[string]any {
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return map[string]any{"rss": ms.Sys, "heapTotal": ms.HeapSys, "heapUsed": ms.HeapAlloc, "external": 0}
}
