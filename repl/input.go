package repl

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Reading entries: the prompt loop, the REPL commands (.help, .load, …)
// and editor mode.

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
