package repl

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

// Evaluating an entry on the loop, and Ctrl-C while it runs.

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
