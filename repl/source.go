package repl

import (
	"errors"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"

	"github.com/amqpjs/amqpjs/runtime"
)

// The pure parts of the REPL: telling an unfinished entry from a finished
// one, turning an entry into the script that runs (top-level await, in
// await.go), and finding the word to complete. None of them touches a
// runtime.

// incomplete reports whether src is an unfinished statement, as Node's REPL
// tells it: the parser ran out of input (an open brace, bracket,
// parenthesis, template literal or comment, a trailing operator), or a
// string literal goes on to the next line after a backslash. The REPL then
// asks for another line. A token cut short at the end (`3.5e`, a backslash
// outside a string) is an error, not more input.
func incomplete(src string) bool {
	if strings.TrimSpace(src) == "" {
		return false
	}
	if q := openQuote(src); (q == '\'' || q == '"') && continued(src) {
		return true
	}
	_, err := runtime.TransformSnippet(snippetName, src)
	var se *runtime.SyntaxError
	if !errors.As(err, &se) {
		return false
	}
	if isEOFError(se, src) && !badLastToken(src) {
		return true
	}
	// Like Node: an entry that starts with `{` may be an object literal
	// going on (`{ "a": `), see prepare.
	if t := strings.TrimSpace(src); strings.HasPrefix(t, "{") && !strings.HasSuffix(t, ";") {
		if _, err := runtime.TransformSnippet(snippetName, "("+src+"\n)"); err == nil {
			return false // `{ a: 1 }.a`
		}
		_, err := runtime.TransformSnippet(snippetName, "("+src)
		return errors.As(err, &se) && isEOFError(se, "("+src) && !badLastToken("("+src)
	}
	return false
}

// continued reports whether src ends in a line continuation: an odd number
// of backslashes.
func continued(src string) bool {
	n := 0
	for i := len(src) - 1; i >= 0 && src[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func isEOFError(se *runtime.SyntaxError, src string) bool {
	msg := se.Message
	switch {
	case strings.Contains(msg, "end of file"),
		strings.Contains(msg, "to terminate multi-line comment"),
		strings.Contains(msg, "Unterminated template literal"):
		return true
	case strings.Contains(msg, "Unterminated string literal"):
		// esbuild says so of an open template literal too (at the end of
		// the input); only that one may span lines.
		return openQuote(src) == '`'
	}
	return false
}

// badLastToken reports whether the last line of src holds a token that
// cannot be read (esbuild says "end of file" of `3.5e` and of a trailing
// backslash, as it does of an unfinished statement): goja's scanner tells.
func badLastToken(src string) bool {
	pc, _ := blankForAwait(asyncOpen + src)
	_, err := parser.ParseFile(nil, "", pc, 0, parser.WithDisableSourceMaps)
	var list parser.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return false
	}
	first := list[0]
	lastLine := strings.Count(pc, "\n") + 1
	return first.Position.Line == lastLine &&
		(strings.Contains(first.Message, "ILLEGAL") || strings.Contains(first.Message, "numeric separator"))
}

// snippetName is the file name esbuild reports in syntax errors.
const snippetName = "REPL"

// prepared is an entry ready to run on the loop.
type prepared struct {
	code string // the script to run
	// async: code evaluates to the promise of an async function; with
	// value, the promise's value is { value: the entry's value }.
	async, value bool
	// lexical lists the let/const/class names the entry declares at top
	// level (global lexical bindings, which are not properties of the
	// global object): completion offers them.
	lexical []string
}

// prepare compiles a finished entry; name is its script name in stack
// traces. A syntax error is returned as a *runtime.SyntaxError, a
// *parseError or a syntaxError.
//
// Like Node, an entry that starts with `{` and does not end with `;` is an
// expression when it can be one (`{ a: 1 }` is an object, `{ a: 1 }.a` is
// 1).
func prepare(src, name string) (*prepared, error) {
	src = strings.ToValidUTF8(src, "\uFFFD") // as TransformSnippet does
	trimmed := strings.TrimSpace(src)
	if trimmed == "" {
		return &prepared{code: ""}, nil
	}
	if strings.HasPrefix(trimmed, "{") && !strings.HasSuffix(trimmed, ";") {
		wrapped := "(" + src + "\n)"
		if _, err := runtime.TransformSnippet(name, wrapped); err == nil {
			if p, err := prepareEntry(wrapped, name); err == nil {
				return p, nil
			}
		}
	}
	return prepareEntry(src, name)
}

// prepareEntry compiles src.
//
// What was typed runs as it is whenever goja can parse it (esbuild would
// drop an unused pure expression such as `'a' + 'b'`, whose value the REPL
// prints), with a source map that keeps positions exact. esbuild compiles
// what goja cannot parse (for await, async generators): for an entry that
// awaits, inside its async function, after the rewrite.
func prepareEntry(src, name string) (*prepared, error) {
	ae, err := rewriteAwait(src)
	if err != nil {
		return nil, err
	}
	if ae != nil {
		p := &prepared{async: true, value: ae.value, lexical: ae.lexical}
		code := ae.script(false)
		if _, err := goja.Compile("", code, false); err == nil {
			p.code = code + runtime.IdentitySourceMap(name, src, 1)
			return p, nil
		}
		// The wrapper opens on the entry's first line: esbuild's source
		// map then gives the entry's line numbers.
		sn, err := runtime.TransformSnippet(name, ae.script(true))
		if err != nil {
			return nil, err
		}
		p.code = sn.Code + sn.SourceMap(0)
		return p, nil
	}
	prog, perr := parser.ParseFile(nil, "", src, 0, parser.WithDisableSourceMaps)
	if perr == nil {
		if _, err := goja.Compile("", src, false); err == nil || !compilable(name, src) {
			return &prepared{code: src + runtime.IdentitySourceMap(name, src, 0), lexical: lexicalNames(prog.Body)}, nil
		}
		// goja parses but cannot compile it (an async generator): esbuild's
		// lowering below.
	}
	sn, serr := runtime.TransformSnippet(name, src)
	if serr != nil {
		return nil, serr
	}
	if sn.TopLevelAwait && perr != nil {
		// esbuild sees top-level await where goja's parser could not read
		// the entry in an async function.
		return nil, &parseError{err: perr}
	}
	prog, err = parser.ParseFile(nil, "", sn.Code, 0, parser.WithDisableSourceMaps)
	if err != nil {
		if perr != nil {
			err = perr
		}
		return nil, &parseError{err: err}
	}
	return &prepared{code: sn.Code + sn.SourceMap(0), lexical: lexicalNames(prog.Body)}, nil
}

// compilable reports whether esbuild's compilation of src compiles in goja
// (when goja cannot compile src itself, its error is the one to show
// unless esbuild's output does better).
func compilable(name, src string) bool {
	sn, err := runtime.TransformSnippet(name, src)
	if err != nil || sn.TopLevelAwait {
		return false
	}
	_, err = goja.Compile("", sn.Code, false)
	return err == nil
}

// parseError is a goja parser error, without its "(anonymous): " prefix.
type parseError struct{ err error }

func (e *parseError) Error() string {
	var list parser.ErrorList
	if errors.As(e.err, &list) && len(list) > 0 {
		return list[0].Message
	}
	return strings.TrimPrefix(e.err.Error(), "(anonymous): ")
}

func lexicalNames(body []ast.Statement) []string {
	var names []string
	for _, st := range body {
		switch st := st.(type) {
		case *ast.LexicalDeclaration:
			for _, b := range st.List {
				boundNames(b.Target, &names)
			}
		case *ast.ClassDeclaration:
			if st.Class.Name != nil {
				names = append(names, st.Class.Name.Name.String())
			}
		}
	}
	return names
}

// boundNames appends the names a binding target declares.
func boundNames(n ast.Node, names *[]string) {
	switch n := n.(type) {
	case *ast.Identifier:
		*names = append(*names, n.Name.String())
	case *ast.ObjectPattern:
		for _, p := range n.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				*names = append(*names, p.Name.Name.String())
			case *ast.PropertyKeyed:
				boundNames(p.Value, names)
			}
		}
		if n.Rest != nil {
			boundNames(n.Rest, names)
		}
	case *ast.ArrayPattern:
		for _, e := range n.Elements {
			if e != nil {
				boundNames(e, names)
			}
		}
		if n.Rest != nil {
			boundNames(n.Rest, names)
		}
	case *ast.AssignExpression:
		boundNames(n.Left, names)
	case *ast.SpreadElement:
		boundNames(n.Expression, names)
	}
}

func dedupe(names []string) []string {
	seen := map[string]bool{}
	out := names[:0]
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// completionTarget finds what to complete at the end of line (the text
// before the cursor): an object path of identifiers (`channel`, `a.b`) and
// the partial name after its last dot. With an empty path the name is a
// global. ok is false when the text before the cursor is not such a path
// (a call, a string, a number) and nothing should be offered.
func completionTarget(line string) (path []string, prefix string, ok bool) {
	i := len(line)
	for i > 0 {
		c := line[i-1]
		if isIdentByte(c) || c == '.' {
			i--
			continue
		}
		if c == '?' && i < len(line) && line[i] == '.' { // optional chaining a?.b
			i--
			continue
		}
		break
	}
	word := line[i:]
	if i > 0 {
		switch line[i-1] {
		case '\'', '"', '`':
			return nil, "", false // inside a string literal, most likely
		}
	}
	if inString(line[:i]) {
		return nil, "", false
	}
	word = strings.ReplaceAll(word, "?.", ".")
	parts := strings.Split(word, ".")
	prefix = parts[len(parts)-1]
	path = parts[:len(parts)-1]
	if len(path) > 0 && i > 0 && (line[i-1] == ')' || line[i-1] == ']') {
		return nil, "", false // a call or an index: never evaluated
	}
	for _, p := range path {
		if !isIdent(p) {
			return nil, "", false
		}
	}
	if prefix != "" && !isIdent(prefix) {
		return nil, "", false
	}
	return path, prefix, true
}

// inString reports whether s ends inside a string or template literal.
func inString(s string) bool { return openQuote(s) != 0 }

// openQuote returns the quote of the string or template literal s ends in,
// or 0 (a rough scan: quotes and backslash escapes, no comments or
// regexps).
func openQuote(s string) byte {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == '\\':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '\'' || c == '"' || c == '`'):
			q = c
		}
	}
	return q
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isIdent(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) {
			return false
		}
	}
	return true
}
