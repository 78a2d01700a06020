//go:build !js && !wasip1

package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/chzyer/readline"
)

// The line editor: github.com/chzyer/readline (Emacs keys, history with
// Ctrl-R search, tab completion). Its Stdout/Stderr writers redraw the
// prompt and the line being typed under what other goroutines print. It
// does not build for WebAssembly, where the REPL reads plain lines.

// isTerminal reports whether the session is interactive: input and output
// are both terminals.
func isTerminal(in io.Reader, out io.Writer) bool {
	inF, ok := in.(*os.File)
	if !ok {
		return false
	}
	outF, ok := out.(*os.File)
	if !ok {
		return false
	}
	return readline.IsTerminal(int(inF.Fd())) && readline.IsTerminal(int(outF.Fd()))
}

// termSignals end the session (after closing connections), exit code 130.
var termSignals = []os.Signal{syscall.SIGTERM, syscall.SIGHUP}

type ttyEditor struct {
	rl    *readline.Instance
	stdin *readline.CancelableStdin
	once  sync.Once
}

func newTTYEditor(in io.Reader, out, errw io.Writer, history string, complete func(string) ([]string, string)) (editor, error) {
	inF, ok := in.(*os.File)
	if !ok {
		return nil, errors.New("input is not a terminal")
	}
	if history != "" {
		if err := prepareHistory(history); err != nil {
			fmt.Fprintf(errw, "amqpjs repl: history file %s: %v (history is not kept)\n", history, err)
			history = ""
		}
	}
	stdin := readline.NewCancelableStdin(inF)
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            prompt,
		HistoryFile:       history,
		HistoryLimit:      1000,
		HistorySearchFold: true,
		AutoComplete:      completer(complete),
		InterruptPrompt:   "^C",
		EOFPrompt:         "\n", // print nothing but the newline on Ctrl-D
		Stdin:             stdin,
		Stdout:            out,
		Stderr:            errw,
	})
	if err != nil {
		return nil, err
	}
	return &ttyEditor{rl: rl, stdin: stdin}, nil
}

// prepareHistory makes sure the history file can be written, private to
// its owner (lines may hold passwords).
func prepareHistory(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

func (e *ttyEditor) Readline(p string) (string, error) {
	e.rl.SetPrompt(p)
	line, err := e.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return line, errInterrupt
	}
	return line, err
}

func (e *ttyEditor) Stdout() io.Writer { return e.rl.Stdout() }
func (e *ttyEditor) Stderr() io.Writer { return e.rl.Stderr() }

func (e *ttyEditor) Close() error {
	e.once.Do(func() {
		// readline's Close waits for its reader, which only our stdin
		// wrapper can wake up (readline wraps it again and does not
		// close it).
		_ = e.stdin.Close()
		_ = e.rl.Close()
	})
	return nil
}

// completer adapts the session's completion to readline's, which wants
// the rest of each candidate after the word being completed.
type completer func(string) ([]string, string)

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	names, word := c(string(line[:pos]))
	n := len([]rune(word))
	out := make([][]rune, 0, len(names))
	for _, name := range names {
		r := []rune(name)
		if len(r) >= n {
			out = append(out, r[n:])
		}
	}
	return out, n
}
