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
package repl

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
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

const (
	prompt     = "> "
	contPrompt = "... "
	exitHint   = "(To exit, press Ctrl+C again or Ctrl+D or type .exit)"
)

// readLoop reads and evaluates entries until the session ends.
func (s *session) readLoop() {
	var buf []string
	ctrlC := false // the last key was Ctrl-C at an empty prompt
	for {
		if s.ended() {
			return
		}
		p := prompt
		if len(buf) > 0 {
			p = contPrompt
		}
		line, err := s.ed.Readline(p)
		if errors.Is(err, errInterrupt) {
			if !s.interactive { // SIGINT while a script waits for input
				s.sigExit = true
				return
			}
			if len(buf) > 0 || line != "" {
				buf, ctrlC = nil, false
				continue
			}
			if ctrlC {
				return
			}
			s.println(s.out, exitHint)
			ctrlC = true
			continue
		}
		ctrlC = false
		if err != nil { // io.EOF: Ctrl-D, end of input, or the loop ended
			if len(buf) > 0 && !s.interactive && !s.ended() {
				s.evaluate(strings.Join(buf, "\n"), "")
			}
			return
		}
		// As in Node: a command runs in the middle of an entry too (.break
		// drops it); an unknown one there is code (`.charAt(0))`).
		if cmd, arg, ok := parseCommand(line); ok && (len(buf) == 0 || isCommand(cmd)) {
			if len(buf) > 0 && (cmd == "break" || cmd == "clear") {
				buf = nil
				continue
			}
			if s.command(cmd, arg) {
				return
			}
			continue
		}
		buf = append(buf, line)
		src := strings.Join(buf, "\n")
		if incomplete(src) {
			continue
		}
		buf = nil
		if strings.TrimSpace(src) == "" {
			continue
		}
		s.evaluate(src, "")
	}
}

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

// commandRe matches what Node's REPL takes for a command: a dot, then
// neither a dot (`...[]`) nor a digit (`.5 + 1`, a number).
var commandRe = regexp.MustCompile(`^\s*\.([^\s.0-9]\S*)(?:\s+(.*?))?\s*$`)

// parseCommand recognises `.name [arg]`; the name may be no command.
func parseCommand(line string) (cmd, arg string, ok bool) {
	m := commandRe.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

func isCommand(name string) bool {
	for _, c := range commands {
		if c.name == name {
			return true
		}
	}
	return false
}

var commands = []struct{ name, help string }{
	{"break", "Sometimes you get stuck, this gets you out"},
	{"clear", "Alias for .break"},
	{"editor", "Enter editor mode"},
	{"exit", "Exit the REPL"},
	{"help", "Print this help message"},
	{"load", "Load JS from a file into the REPL session"},
	{"save", "Save all evaluated commands in this REPL session to a file"},
}

// command runs a REPL command; it reports true when the session should end.
func (s *session) command(cmd, arg string) bool {
	switch cmd {
	case "exit":
		return true
	case "help":
		var b strings.Builder
		for _, c := range commands {
			fmt.Fprintf(&b, ".%-9s %s\n", c.name, c.help)
		}
		b.WriteString("\nPress Ctrl+C to abort current expression, Ctrl+D to exit the REPL\n")
		b.WriteString("\naioamqp is preloaded:\n")
		b.WriteString("  const [transport, protocol] = await aioamqp.connect()\n")
		b.WriteString("  const channel = await protocol.channel()\n")
		b.WriteString("`_` holds the last result, `_error` the last error.\n")
		io.WriteString(s.out, b.String())
	case "break", "clear":
		// nothing buffered at this point
	case "load":
		if arg == "" {
			s.println(s.errw, "Usage: .load FILE")
			return false
		}
		src, err := os.ReadFile(arg)
		if err != nil {
			s.println(s.errw, fmt.Sprintf("Failed to load: %s", arg))
			return false
		}
		text := string(src)
		if strings.HasPrefix(text, "#!") {
			text = "//" + text[2:]
		}
		// Named by its absolute path: its relative requires resolve next to
		// it, and stack traces point into it.
		name := arg
		if abs, err := filepath.Abs(arg); err == nil {
			name = abs
		}
		s.evaluate(text, name)
	case "save":
		if arg == "" {
			s.println(s.errw, "Usage: .save FILE")
			return false
		}
		data := strings.Join(s.entries, "\n")
		if data != "" {
			data += "\n"
		}
		if err := os.WriteFile(arg, []byte(data), 0o644); err != nil {
			s.println(s.errw, fmt.Sprintf("Failed to save: %s", arg))
		} else {
			s.println(s.out, fmt.Sprintf("Session saved to: %s", arg))
		}
	case "editor":
		return s.editorMode()
	default:
		s.println(s.errw, "Invalid REPL keyword")
	}
	return false
}

// editorMode reads lines until Ctrl-D and evaluates them as one entry;
// Ctrl-C abandons them.
func (s *session) editorMode() bool {
	if s.interactive {
		s.println(s.out, "// Entering editor mode (Ctrl+D to finish, Ctrl+C to cancel)")
	}
	var lines []string
	for {
		line, err := s.ed.Readline("")
		if errors.Is(err, errInterrupt) {
			return !s.interactive
		}
		if err != nil {
			break
		}
		lines = append(lines, line)
	}
	if s.ended() {
		return true
	}
	src := strings.Join(lines, "\n")
	if strings.TrimSpace(src) != "" {
		s.evaluate(src, "")
	}
	return !s.interactive // in a script, the end of input ends the session
}

// Evaluation states (evaluation.state).
const (
	stQueued int32 = iota
	stRunning
	stAwaiting
	stFinished
	stCancelled
)

// evaluation is one entry on its way through the loop.
type evaluation struct {
	state atomic.Int32
	// interrupt is set by Ctrl-C while the entry runs: should its
	// synchronous part end before the interrupt lands, the wait for its
	// promise is abandoned at once.
	interrupt atomic.Bool
	done      chan struct{} // closed once its result was printed
}

const interruptedMsg = "Uncaught Error: Script execution was interrupted by `SIGINT`"

// printInterrupted reports an entry stopped by Ctrl-C. In a terminal the
// message starts a line of its own, after the "^C" the terminal echoed.
// Any goroutine.
func (s *session) printInterrupted() {
	if s.interactive {
		s.println(s.errw, "\n"+interruptedMsg)
		return
	}
	s.println(s.errw, interruptedMsg)
}

// evaluate runs one entry and prints its value or error; it returns when
// it is done, when Ctrl-C gave up on it, or when the session ended.
func (s *session) evaluate(src, name string) {
	s.seq++
	if name == "" {
		name = fmt.Sprintf("REPL%d", s.seq)
	}
	p, err := prepare(src, name)
	if err != nil {
		s.println(s.errw, "Uncaught SyntaxError: "+syntaxMessage(err))
		return
	}
	if p.code == "" {
		return
	}
	s.entries = append(s.entries, src)
	select { // a stale Ctrl-C must not hit this entry
	case <-s.sigint:
	default:
	}
	ev := &evaluation{done: make(chan struct{})}
	if !s.loop.RunOnLoop(func(vm *goja.Runtime) { s.runEntry(vm, ev, p, name) }) {
		return
	}
	s.current.Store(ev)
	defer s.current.Store(nil)
	for {
		select {
		case <-ev.done:
			return
		case <-s.loopDone:
			return
		case <-s.term:
			return
		case <-s.sigint:
			if s.interruptEntry(ev) {
				return
			}
		}
	}
}

// interruptEntry acts on Ctrl-C during ev; it reports whether the wait for
// ev is over.
func (s *session) interruptEntry(ev *evaluation) bool {
	for {
		switch ev.state.Load() {
		case stQueued:
			// Something else holds the loop (a runaway timer): stop it,
			// and drop this entry.
			if ev.state.CompareAndSwap(stQueued, stCancelled) {
				s.loop.InterruptTask()
				s.printInterrupted()
				return true
			}
		case stRunning:
			if !ev.interrupt.Swap(true) {
				s.loop.InterruptTask()
				if ev.state.Load() != stAwaiting {
					return false // the interrupted entry reports itself
				}
				continue // it got past its synchronous part: abandon the wait
			}
			// A second Ctrl-C: the interrupt did not take (Go code
			// blocking); give up on the entry.
			if ev.state.CompareAndSwap(stRunning, stCancelled) {
				s.printInterrupted()
				return true
			}
		case stAwaiting:
			if ev.state.CompareAndSwap(stAwaiting, stCancelled) {
				s.printInterrupted()
				return true
			}
		default: // finished, or cancelled by the loop: done is closed
			return false
		}
	}
}

func syntaxMessage(err error) string {
	var se *runtime.SyntaxError
	if errors.As(err, &se) {
		return se.Message
	}
	return err.Error()
}

// runEntry evaluates a prepared entry. Loop only.
func (s *session) runEntry(vm *goja.Runtime, ev *evaluation, p *prepared, name string) {
	if !ev.state.CompareAndSwap(stQueued, stRunning) {
		return
	}
	for _, n := range p.lexical {
		s.lexical[n] = true
	}
	prg, err := goja.Compile(name, p.code, false)
	if err != nil { // an early error the parser let through (`const a`)
		if ev.state.CompareAndSwap(stRunning, stFinished) {
			var cse *goja.CompilerSyntaxError
			if errors.As(err, &cse) {
				s.println(s.errw, "Uncaught SyntaxError: "+cse.Message)
			} else {
				s.showError(runtime.RejectionValue(vm, err), "Uncaught ")
			}
			close(ev.done)
		}
		return
	}
	v, err := vm.RunProgram(prg)
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			if _, exit := ie.Value().(*runtime.ExitError); exit {
				return // process.exit(): the loop ends
			}
			if ev.state.CompareAndSwap(stRunning, stFinished) {
				s.printInterrupted()
				close(ev.done)
			}
			return
		}
		if ev.state.CompareAndSwap(stRunning, stFinished) {
			s.showError(runtime.RejectionValue(vm, err), "Uncaught ")
			close(ev.done)
		}
		return
	}
	if !p.async {
		if ev.state.CompareAndSwap(stRunning, stFinished) {
			s.showResult(v)
			close(ev.done)
		}
		return
	}
	if !ev.state.CompareAndSwap(stRunning, stAwaiting) {
		return
	}
	if ev.interrupt.Load() && ev.state.CompareAndSwap(stAwaiting, stCancelled) {
		// Ctrl-C came as the synchronous part ended.
		s.printInterrupted()
		close(ev.done)
		return
	}
	promise := v.ToObject(vm)
	then, ok := goja.AssertFunction(promise.Get("then"))
	if !ok {
		if ev.state.CompareAndSwap(stAwaiting, stFinished) {
			s.showResult(v)
			close(ev.done)
		}
		return
	}
	_, err = then(promise,
		vm.ToValue(func(call goja.FunctionCall) goja.Value {
			if ev.state.CompareAndSwap(stAwaiting, stFinished) {
				v := call.Argument(0)
				if o, ok := v.(*goja.Object); ok && p.value {
					v = o.Get("value") // { value: … }, so that a promise is not awaited
				}
				s.showResult(v)
				close(ev.done)
			}
			return goja.Undefined()
		}),
		vm.ToValue(func(call goja.FunctionCall) goja.Value {
			if ev.state.CompareAndSwap(stAwaiting, stFinished) {
				s.showError(call.Argument(0), "Uncaught ")
				close(ev.done)
			} else {
				_ = vm.Set("_error", call.Argument(0))
			}
			return goja.Undefined()
		}))
	if err != nil && ev.state.CompareAndSwap(stAwaiting, stFinished) {
		s.showError(runtime.RejectionValue(vm, err), "Uncaught ")
		close(ev.done)
	}
}

// showResult prints a value as Node's REPL does and keeps it in `_`. In a
// script (not a terminal) undefined is not printed. Loop only.
func (s *session) showResult(v goja.Value) {
	if v == nil {
		v = goja.Undefined()
	}
	_ = s.vm.Set("_", v)
	if !s.interactive && goja.IsUndefined(v) {
		return
	}
	s.println(s.out, s.rt.Inspect(v, s.color))
}

// showError prints a thrown value and keeps it in `_error`. Loop only.
func (s *session) showError(v goja.Value, prefix string) {
	if v == nil {
		v = goja.Undefined()
	}
	_ = s.vm.Set("_error", v)
	s.println(s.errw, prefix+s.describeError(v))
}

// replFrame matches the stack lines that say nothing to the person at the
// prompt: the top level of an entry (named functions defined at the REPL
// stay), the runtime's own files, Go functions.
var replFrame = regexp.MustCompile(`^\s+at (?:(?:async )?<anonymous> \()?(?:REPL\d*|<eval>)(?::\d+:\d+)?\)?$|^\s+at (?:.*[ (])?amqpjs:[^:)]*(?::\d+:\d+)?\)?$|^\s+at .*\(native\)$`)

// describeError renders a thrown value: for an Error its name and message,
// the stack lines outside the REPL, and its own properties (an AMQP code)
// — `ChannelClosed: NOT_FOUND - no queue 'x' { code: 404 }`. Loop only.
func (s *session) describeError(v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok || !isError(s.vm, o) {
		return s.rt.Inspect(v, false)
	}
	stack := ""
	if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
		stack = st.String()
	}
	if stack == "" {
		stack = o.String()
	}
	// An error of the aioamqp module keeps the entry's own line: its stack
	// is the call that caused it (the entry's queue_declare), which may
	// have been several entries ago.
	// (The first such frame only: a later one is the REPL's own wrapper
	// of an entry that awaits.)
	keepEntry := isAioamqpError(o)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(runtime.CleanStack(stack), "\n"), "\n") {
		if keepEntry && replEntryFrame.MatchString(l) {
			lines = append(lines, l)
			keepEntry = false
			continue
		}
		if !replFrame.MatchString(l) {
			lines = append(lines, l)
		}
	}
	text := strings.Join(lines, "\n")
	var extra []string
	props := s.vm.NewObject()
	for _, k := range o.Keys() {
		if k == "stack" || k == "message" {
			continue
		}
		extra = append(extra, k)
		_ = props.Set(k, o.Get(k))
	}
	if len(extra) > 0 {
		text += " " + s.rt.Inspect(props, false)
	}
	return text
}

// replEntryFrame matches the frame of an entry's top level, with its
// position ("at REPL4:1:10").
var replEntryFrame = regexp.MustCompile(`^\s+at (?:(?:async )?<anonymous> \()?REPL\d+:\d+:\d+\)?$`)

// isAioamqpError reports whether o is an instance of one of the aioamqp
// module's exception classes (AioamqpException and its subclasses).
func isAioamqpError(o *goja.Object) (is bool) {
	defer func() { _ = recover() }() // a hostile getter
	for p, n := o.Prototype(), 0; p != nil && n < 16; p, n = p.Prototype(), n+1 {
		if c, ok := p.Get("constructor").(*goja.Object); ok {
			if name := c.Get("name"); name != nil && name.String() == "AioamqpException" {
				return true
			}
		}
	}
	return false
}

func isError(vm *goja.Runtime, o *goja.Object) (is bool) {
	ctor, ok := vm.Get("Error").(*goja.Object)
	if !ok {
		return false
	}
	defer func() { _ = recover() }() // a hostile Symbol.hasInstance
	return vm.InstanceOf(o, ctor)
}

// println writes s and a newline in one write.
func (s *session) println(w io.Writer, text string) {
	_, _ = io.WriteString(w, text+"\n")
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

// editor reads lines; in a terminal it is the line editor.
type editor interface {
	// Readline shows prompt and returns the line typed. The error is
	// errInterrupt on Ctrl-C (the line so far is returned with it) and
	// io.EOF at the end of input (Ctrl-D on an empty line) or after Close.
	Readline(prompt string) (string, error)
	// Stdout and Stderr are the writers for everything printed during
	// the session: in a terminal they redraw the prompt below the output.
	Stdout() io.Writer
	Stderr() io.Writer
	// Close ends a pending Readline. Any goroutine; idempotent.
	Close() error
}

var errInterrupt = errors.New("interrupt")

// plainEditor reads lines without echo, prompt or editing: the REPL's
// input when it is not a terminal (a script piped in).
type plainEditor struct {
	lines  chan string
	err    error // after lines is closed
	sigint <-chan struct{}
	closed chan struct{}
	once   sync.Once
	out    io.Writer
	errw   io.Writer
}

func newPlainEditor(in io.Reader, out, errw io.Writer, sigint <-chan struct{}) *plainEditor {
	e := &plainEditor{lines: make(chan string), sigint: sigint, closed: make(chan struct{})}
	var mu sync.Mutex
	e.out = &lockedWriter{mu: &mu, w: out}
	e.errw = &lockedWriter{mu: &mu, w: errw}
	go e.read(in)
	return e
}

func (e *plainEditor) read(in io.Reader) {
	defer close(e.lines)
	r := bufio.NewReader(in)
	for {
		line, err := r.ReadString('\n')
		if line != "" || err == nil {
			select {
			case e.lines <- strings.TrimRight(line, "\r\n"):
			case <-e.closed:
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				e.err = err
			}
			return
		}
	}
}

func (e *plainEditor) Readline(string) (string, error) {
	select {
	case line, ok := <-e.lines:
		if !ok {
			return "", io.EOF
		}
		return line, nil
	case <-e.sigint:
		return "", errInterrupt
	case <-e.closed:
		return "", io.EOF
	}
}

func (e *plainEditor) Stdout() io.Writer { return e.out }
func (e *plainEditor) Stderr() io.Writer { return e.errw }
func (e *plainEditor) Close() error {
	e.once.Do(func() { close(e.closed) })
	return nil
}

// lockedWriter serialises writes to w (the loop and the input goroutine
// both print).
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
