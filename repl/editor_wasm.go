//go:build js || wasip1

package repl

import (
	"errors"
	"io"
	"os"
)

// No line editor builds for WebAssembly: the REPL always reads plain lines
// there, without prompts.

func isTerminal(io.Reader, io.Writer) bool { return false }

func newTTYEditor(io.Reader, io.Writer, io.Writer, string, func(string) ([]string, string)) (editor, error) {
	return nil, errors.New("no line editor in this build")
}

var termSignals []os.Signal
