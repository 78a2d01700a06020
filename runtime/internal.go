package runtime

import (
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
)

// ExitInternal is the exit code of an internal error (docs/api.md §1): a defect
// of amqpjs itself, such as a Go panic. EX_SOFTWARE in sysexits.h.
const ExitInternal = 70

// InternalError is a Go panic caught where it could do no more harm: on the
// loop goroutine where a task runs, or around a command. Its text is one
// line for the user; the Go stack, which only an amqpjs developer can use,
// is in StackFile. The runtime it happened in is closed.
type InternalError struct {
	// Where names what was running: the loop task's Go function, or the
	// part of the program that panicked.
	Where string
	// Value is what was passed to panic.
	Value any
	// StackFile is the file holding the Go stack ("" when it could not be
	// written; the stack is then in Stack only).
	StackFile string
	// Stack is the Go stack of the panicking goroutine.
	Stack []byte
}

// Error is the one line printed for the user.
func (e *InternalError) Error() string {
	var b strings.Builder
	b.WriteString("internal error (a defect of amqpjs, please report it): panic in ")
	b.WriteString(e.Where)
	b.WriteString(": ")
	b.WriteString(oneLine(fmt.Sprint(e.Value)))
	if e.StackFile != "" {
		b.WriteString("; Go stack in ")
		b.WriteString(e.StackFile)
	} else {
		b.WriteString("; the Go stack could not be written to a file")
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// panicSeq numbers the stack files of one process.
var panicSeq atomic.Int64

// NewInternalError records a recovered panic: v is recover()'s value and
// where says what was running. It writes the current goroutine's stack to a
// new file in the temporary directory ($TMPDIR) and returns the error that
// names it. Call it from the deferred function that recovered, so that the
// stack is the panicking one. Any goroutine.
func NewInternalError(where string, v any) *InternalError {
	e := &InternalError{Where: where, Value: v, Stack: debug.Stack()}
	name := fmt.Sprintf("amqpjs-panic-%d-%d-*.txt", os.Getpid(), panicSeq.Add(1))
	f, err := os.CreateTemp("", name)
	if err != nil {
		return e
	}
	fmt.Fprintf(f, "amqpjs %s (%s, %s/%s) internal error at %s\n\npanic in %s: %v\n\n%s",
		Version, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH,
		time.Now().UTC().Format(time.RFC3339), where, v, e.Stack)
	if f.Close() == nil {
		e.StackFile = f.Name()
	}
	return e
}

// panicSite names where a panic happened, for [InternalError.Where]: the
// innermost function of amqpjs on the panicking stack (the loop's own
// plumbing skipped), else the innermost function outside Go's runtime. Call
// it from the deferred function that recovered.
func panicSite() string {
	pcs := make([]uintptr, 64)
	n := goruntime.Callers(3, pcs)
	frames := goruntime.CallersFrames(pcs[:n])
	first := ""
	for {
		f, more := frames.Next()
		name := f.Function
		switch {
		case name == "" || strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "runtime/debug."):
		case strings.HasPrefix(name, modulePrefix):
			if !strings.HasPrefix(name, modulePrefix+"runtime.(*Loop).") && !strings.HasPrefix(name, modulePrefix+"runtime.panicSite") {
				return strings.TrimPrefix(name, modulePrefix)
			}
		case first == "":
			first = name
		}
		if !more {
			break
		}
	}
	if first == "" {
		return "a loop task"
	}
	if i := strings.LastIndex(first, "/"); i >= 0 {
		first = first[i+1:]
	}
	return first
}

const modulePrefix = "github.com/amqpjs/amqpjs/"
