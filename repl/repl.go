// Package repl is the interactive shell of amqpjs (`amqpjs repl`): a
// read-eval-print loop over a [runtime.Runtime] that feels like Node's REPL.
//
// # Goroutines
//
// One goroutine runs the runtime's event loop ([runtime.Loop.Run]) for the
// whole session, holding a [runtime.Ref] so that the loop never idles out;
// it is the only one that touches goja values. The goroutine that called
// [Run] reads input: it sends each entry to the loop with
// [runtime.Loop.RunOnLoop] and waits over Go channels for the entry to
// finish (its value is printed on the loop, in order with what the entry's
// own code printed). Timers and consumer callbacks keep running on the loop
// while the prompt waits; in a terminal their output goes through the line
// editor, which redraws the prompt and the line being typed below it.
//
// Ctrl-C while an entry runs stops it ([runtime.Loop.InterruptTask]) or
// stops waiting for its promise; the promise is left to settle unobserved.
//
// # Files
//
// repl.go: a session's start, signals and end; input.go: reading entries
// and the dot commands; eval.go: running an entry on the loop and Ctrl-C;
// print.go: results and errors as Node prints them; editor.go: the editor
// interface and the plain editor, editor_tty.go the terminal one; source.go
// and await.go: when an entry is complete, and its rewriting for top-level
// await; complete.go: tab completion.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

// Options configure a session.
type Options struct {
	// Runtime is what the session's runtime is made with; Stdout, Stderr
	// and Color are set by the REPL.
	Runtime runtime.Options
	// Setup (optional) runs once the runtime is made and before it runs:
	// it registers native modules (main registers aioamqp).
	Setup func(rt *runtime.Runtime)
	// Globals are modules required when the session starts, each bound to
	// a global variable: {"aioamqp": "aioamqp"}.
	Globals map[string]string
	// HistoryFile is where an interactive session keeps the lines typed,
	// across sessions; "" keeps none.
	HistoryFile string
	// NoColor turns colours off in a terminal (they are always off when
	// the output is not one).
	NoColor bool
	// Banner is printed under the welcome line of an interactive session.
	// It must hold no secret (main passes a redacted URL).
	Banner string
	// Stdin, Stdout and Stderr default to the process's. The session is
	// interactive (prompts, line editing, colours) when Stdin and Stdout
	// are both terminals.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Tests: the editor to read lines with (Stdin is then not read), and
	// whether the session behaves as in a terminal.
	editor      editor
	interactive bool
}

// Run runs a session until `.exit`, Ctrl-D (end of input), a second Ctrl-C
// at an empty prompt, or process.exit(). Open connections are closed
// (the loop's shutdown hooks) before it returns the exit code: 0 (or
// process.exitCode when set), the code given to process.exit(), or 130
// after SIGTERM.
func Run(ctx context.Context, opts Options) int {
	return newSession(opts).run(ctx)
}

// newSession makes a session: its editor and its runtime, not yet running.
func newSession(opts Options) *session {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	s := &session{
		opts:     opts,
		lexical:  map[string]bool{},
		loopDone: make(chan struct{}),
		sigint:   make(chan struct{}, 1),
		term:     make(chan struct{}),
	}
	if opts.editor != nil {
		s.ed, s.interactive = opts.editor, opts.interactive
	} else if isTerminal(opts.Stdin, opts.Stdout) {
		ed, err := newTTYEditor(opts.Stdin, opts.Stdout, opts.Stderr, opts.HistoryFile, s.completions)
		if err != nil {
			fmt.Fprintf(opts.Stderr, "amqpjs repl: no line editor (%v); reading plain lines\n", err)
		} else {
			s.ed, s.interactive = ed, true
		}
	}
	if s.ed == nil {
		s.ed = newPlainEditor(opts.Stdin, opts.Stdout, opts.Stderr, s.sigint)
	}
	s.color = s.interactive && !opts.NoColor && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	s.out, s.errw = s.ed.Stdout(), s.ed.Stderr()

	ropts := opts.Runtime
	ropts.Stdout, ropts.Stderr, ropts.Color = s.out, s.errw, s.color
	s.rt = runtime.New(ropts)
	s.loop = s.rt.Loop()
	if opts.Setup != nil {
		opts.Setup(s.rt)
	}
	return s
}

// run runs the session to its end and returns the exit code.
func (s *session) run(ctx context.Context) int {
	stopSignals := s.watchSignals()
	defer stopSignals()

	var cancel context.CancelCauseFunc
	ctx, cancel = context.WithCancelCause(ctx)
	defer cancel(nil)
	s.cancel = cancel
	s.ref = s.loop.Ref()
	ready := make(chan struct{})
	go func() {
		err := s.loop.Run(ctx, func(vm *goja.Runtime) error {
			s.start(vm)
			close(ready)
			return nil
		})
		s.loopErr = err
		close(s.loopDone)
	}()
	select {
	case <-ready:
	case <-s.loopDone:
	}
	// End the read when the loop ends on its own (process.exit in a
	// callback), so that the session does not wait for a line.
	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		select {
		case <-s.loopDone:
			s.ed.Close()
		case <-watchDone:
		}
	}()

	if s.interactive {
		s.banner()
	}
	s.readLoop()
	return s.finish()
}

// session is one REPL session. Fields marked loop-owned are touched only on
// the loop goroutine; the others belong to the input goroutine unless said.
type session struct {
	opts        Options
	rt          *runtime.Runtime
	loop        *runtime.Loop
	ref         *runtime.Ref
	ed          editor
	out, errw   io.Writer // the runtime's stdout and stderr (through the editor)
	interactive bool
	color       bool
	cancel      context.CancelCauseFunc

	loopDone chan struct{} // closed when Loop.Run returned
	loopErr  error         // valid after loopDone

	sigint   chan struct{} // a SIGINT arrived (buffered 1)
	term     chan struct{} // closed on SIGTERM/SIGHUP
	termOnce sync.Once
	termed   atomic.Bool
	sigExit  bool // a SIGINT ended a piped session

	current atomic.Pointer[evaluation] // the entry being waited for (tests look)
	seq     int                        // entries evaluated, for their script names
	entries []string                   // entries evaluated, for .save

	vm      *goja.Runtime   // loop-owned
	lexical map[string]bool // loop-owned: global let/const/class names
}

// errSessionEnded ends the loop at the end of a session.
var errSessionEnded = errors.New("repl session ended")

func (s *session) banner() {
	fmt.Fprintf(s.out, "Welcome to amqpjs %s (JavaScript on goja, RabbitMQ with aioamqp's API).\n", runtime.Version)
	if s.opts.Banner != "" {
		fmt.Fprintln(s.out, s.opts.Banner)
	}
	fmt.Fprintln(s.out, `Type ".help" for more information.`)
}

// start runs first on the loop: error reporting and the preloaded globals.
func (s *session) start(vm *goja.Runtime) {
	s.vm = vm
	s.loop.SetErrorHook(s.onLoopError)
	names := make([]string, 0, len(s.opts.Globals))
	for name := range s.opts.Globals {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := s.rt.Require(s.opts.Globals[name])
		if err != nil {
			s.println(s.errw, fmt.Sprintf("amqpjs repl: require('%s'): %v", s.opts.Globals[name], err))
			continue
		}
		_ = vm.Set(name, v)
	}
}

// onLoopError reports an error from a callback, a timer or an unhandled
// rejection, and keeps the session going. process.exit() and the end of
// the session still end the loop. Loop only.
func (s *session) onLoopError(err error) bool {
	var ee *runtime.ExitError
	var ie *goja.InterruptedError
	if errors.As(err, &ee) || errors.As(err, &ie) {
		return false
	}
	var ur *runtime.UnhandledRejectionError
	var ue *runtime.UncaughtError
	var ex *goja.Exception
	switch {
	case errors.As(err, &ur):
		s.showError(ur.Reason, "Uncaught (in promise) ")
	case errors.As(err, &ue):
		s.showError(ue.Value, "Uncaught ")
	case errors.As(err, &ex):
		s.showError(ex.Value(), "Uncaught ")
	default:
		s.showError(runtime.RejectionValue(s.vm, err), "Uncaught ")
	}
	return true
}

// watchSignals routes SIGINT to s.sigint, and SIGTERM/SIGHUP to ending the
// session. It returns the function that stops it.
func (s *session) watchSignals() func() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, append([]os.Signal{os.Interrupt}, termSignals...)...)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case sig := <-sigs:
				if sig == os.Interrupt {
					select {
					case s.sigint <- struct{}{}:
					default:
					}
					continue
				}
				s.termOnce.Do(func() {
					s.termed.Store(true)
					close(s.term)
					s.ed.Close()
				})
			case <-stop:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(stop)
		<-done
	}
}

// ended reports whether the loop has ended or SIGTERM/SIGHUP came.
func (s *session) ended() bool {
	select {
	case <-s.loopDone:
		return true
	case <-s.term:
		return true
	default:
		return false
	}
}

// finish ends the session: the loop stops (closing connections through its
// shutdown hooks) and the exit code is worked out.
func (s *session) finish() int {
	s.ref.Close()
	s.cancel(errSessionEnded)
	select {
	case <-s.loopDone:
	case <-time.After(30 * time.Second):
		fmt.Fprintln(s.opts.Stderr, "amqpjs repl: the event loop did not stop; exiting")
		s.ed.Close()
		return runtime.ExitFailure
	}
	s.ed.Close()
	err := s.loopErr
	if s.termed.Load() || s.sigExit {
		return runtime.ExitInterrupted
	}
	if err == nil || errors.Is(err, errSessionEnded) {
		return s.rt.ExitCode() // process.exitCode, as Node's REPL; 0 when unset
	}
	if msg := s.rt.FormatError(err); msg != "" {
		fmt.Fprintln(s.opts.Stderr, msg)
	}
	return s.rt.ExitCodeOf(err)
}
