package repl

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"sync"
)

// The line editor's interface, and the plain editor used when the session
// is not in a terminal (editor_tty.go has the terminal one).

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
