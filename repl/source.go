package repl

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"

	"github.com/amqpjs/amqpjs/runtime"
)

// The pure parts of the REPL: telling an unfinished entry from a finished
// one, turning an entry into the script that runs (top-level await), and
// finding the word to complete. None of them touches a runtime.

// incomplete reports whether src is an unfinished statement: the parser ran
// out of input (an open brace, bracket, parenthesis, template literal or
// comment, a trailing operator). The REPL then asks for another line.
func incomplete(src string) bool {
	if strings.TrimSpace(src) == "" {
		return false
	}
	_, err := runtime.TransformSnippet(snippetName, src)
	var se *runtime.SyntaxError
	if !errors.As(err, &se) {
		return false
	}
	return isEOFError(se, src)
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

// snippetName is the file name esbuild reports in syntax errors.
const snippetName = "REPL"

// prepared is an entry ready to run on the loop.
type prepared struct {
	code string // the script to run
	// async: code evaluates to the promise of an async function whose
	// value is the entry's value.
	async bool
	// hoist lists the names the entry declares at top level when async:
	// they are made global variables (var) before code runs, as Node
	// does, so that `const x = await …` survives to the next entry.
	hoist []string
	// lexical lists the let/const/class names a plain entry declares at
	// top level (global lexical bindings, which are not properties of the
	// global object): completion offers them.
	lexical []string
}

// prepare compiles a finished entry; name is its script name in stack
// traces. A syntax error is returned as a *runtime.SyntaxError or a
// *parseError.
//
// What was typed runs as it is whenever goja can parse it (esbuild would
// drop an unused pure expression such as `'a' + 'b'`, whose value the REPL
// prints), with a source map that keeps positions exact. esbuild tells
// whether the entry awaits at top level, and compiles what goja cannot
// parse (for await, async generators).
func prepare(src, name string) (*prepared, error) {
	src = strings.ToValidUTF8(src, "\uFFFD") // as TransformSnippet does
	trimmed := strings.TrimSpace(src)
	if trimmed == "" {
		return &prepared{code: ""}, nil
	}
	// Like Node: `{ a: 1 }` is an object literal, not a block.
	if strings.HasPrefix(trimmed, "{") && strings.HasSuffix(trimmed, "}") {
		if _, err := runtime.TransformSnippet(name, "("+src+")"); err == nil {
			src = "(" + src + ")"
		}
	}
	sn, serr := runtime.TransformSnippet(name, src)
	if serr == nil && sn.TopLevelAwait {
		if out, hoist, err := rewriteAwait(src); err == nil {
			return &prepared{code: out + runtime.IdentitySourceMap(name, src, asyncPrefixLines), async: true, hoist: hoist}, nil
		}
		out, hoist, err := rewriteAwait(sn.Code)
		if err != nil {
			return nil, &parseError{err: err}
		}
		return &prepared{code: out + sn.SourceMap(asyncPrefixLines), async: true, hoist: hoist}, nil
	}
	prog, perr := parser.ParseFile(nil, "", src, 0, parser.WithDisableSourceMaps)
	if perr == nil {
		return &prepared{code: src + runtime.IdentitySourceMap(name, src, 0), lexical: lexicalNames(prog.Body)}, nil
	}
	if serr != nil {
		return nil, serr
	}
	prog, err := parser.ParseFile(nil, "", sn.Code, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, &parseError{err: perr}
	}
	return &prepared{code: sn.Code + sn.SourceMap(0), lexical: lexicalNames(prog.Body)}, nil
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

const (
	asyncPrefix      = "(async () => {\n"
	asyncPrefixLines = 1
	asyncSuffix      = "\n})()"
)

// rewriteAwait turns code, an entry with top-level await, into a script
// that runs it in an async arrow function and evaluates to its promise:
//
//   - the value of a last expression statement is returned;
//   - top-level var/let/const declarations become assignments to global
//     variables (listed in hoist, declared by the caller with var), so
//     they survive the entry (`const` loses its constness, as in Node);
//   - top-level function declarations are copied to globals, class
//     declarations become assignments.
//
// Declarations of esbuild's helpers (names starting with "__") stay local.
func rewriteAwait(code string) (string, []string, error) {
	src := asyncPrefix + code + asyncSuffix
	prog, err := parser.ParseFile(nil, "", src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return "", nil, err
	}
	body, ok := asyncBody(prog)
	if !ok {
		return "", nil, fmt.Errorf("unexpected parse of the async wrapper")
	}
	type edit struct {
		from, to int
		text     string
	}
	var edits []edit
	var hoist []string
	var fnCopies strings.Builder
	text := func(n ast.Node) string { return src[off(n.Idx0()):off(n.Idx1())] }
	last := -1
	for i := len(body) - 1; i >= 0; i-- {
		if _, empty := body[i].(*ast.EmptyStatement); !empty {
			last = i
			break
		}
	}
	for i, st := range body {
		switch st := st.(type) {
		case *ast.VariableStatement, *ast.LexicalDeclaration:
			var list []*ast.Binding
			if v, ok := st.(*ast.VariableStatement); ok {
				list = v.List
			} else {
				list = st.(*ast.LexicalDeclaration).List
			}
			var names []string
			for _, b := range list {
				boundNames(b.Target, &names)
			}
			if allHelpers(names) {
				continue
			}
			hoist = append(hoist, names...)
			_, isVar := st.(*ast.VariableStatement)
			parts := make([]string, 0, len(list))
			for _, b := range list {
				switch {
				case b.Initializer != nil:
					parts = append(parts, text(b.Target)+" = "+text(b.Initializer))
				case !isVar: // `let x;` starts undefined; `var x;` keeps x
					parts = append(parts, text(b.Target)+" = undefined")
				}
			}
			repl := ""
			if len(parts) > 0 {
				repl = "void (" + strings.Join(parts, ", ") + ")"
			}
			end := off(list[len(list)-1].Target.Idx1())
			if in := list[len(list)-1].Initializer; in != nil {
				end = off(in.Idx1())
			}
			edits = append(edits, edit{off(st.Idx0()), end, repl})
		case *ast.FunctionDeclaration:
			if n := st.Function.Name; n != nil {
				name := n.Name.String()
				hoist = append(hoist, name)
				fmt.Fprintf(&fnCopies, "globalThis[%q] = %s; ", name, name)
			}
		case *ast.ClassDeclaration:
			if n := st.Class.Name; n != nil {
				name := n.Name.String()
				hoist = append(hoist, name)
				edits = append(edits, edit{off(st.Idx0()), off(st.Idx1()), name + " = " + text(st.Class) + ";"})
			}
		case *ast.ExpressionStatement:
			if i == last {
				edits = append(edits, edit{stmtStart(src, off(st.Idx0())), stmtStart(src, off(st.Idx0())), "return "})
			}
		}
	}
	if fnCopies.Len() > 0 {
		edits = append(edits, edit{len(asyncPrefix), len(asyncPrefix), fnCopies.String()})
	}
	sort.SliceStable(edits, func(i, j int) bool { // insertions before replacements at one place
		if edits[i].from != edits[j].from {
			return edits[i].from < edits[j].from
		}
		return edits[i].to < edits[j].to
	})
	var b strings.Builder
	pos := 0
	for _, e := range edits {
		if e.from < pos || e.to < e.from || e.to > len(src) {
			return "", nil, fmt.Errorf("overlapping rewrite")
		}
		b.WriteString(src[pos:e.from])
		b.WriteString(e.text)
		pos = e.to
	}
	b.WriteString(src[pos:])
	return b.String(), dedupe(hoist), nil
}

// stmtStart finds where an expression statement starts, given where its
// expression starts: goja's positions leave out opening parentheses, as in
// `(await x).y`. It stays on the expression's line (so that an inserted
// `return` is not followed by a line break).
func stmtStart(src string, i int) int {
	j := i
	for j > 0 && (src[j-1] == '(' || src[j-1] == ' ' || src[j-1] == '\t' || src[j-1] == '\n' || src[j-1] == '\r') {
		j--
	}
	for j < i && src[j] != '(' {
		j++
	}
	return j
}

// off turns a parser position (1-based) into a byte offset.
func off(i file.Idx) int { return int(i) - 1 }

// asyncBody finds the statements of the wrapper's arrow function.
func asyncBody(prog *ast.Program) ([]ast.Statement, bool) {
	if len(prog.Body) != 1 {
		return nil, false
	}
	es, ok := prog.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return nil, false
	}
	call, ok := es.Expression.(*ast.CallExpression)
	if !ok {
		return nil, false
	}
	arrow, ok := call.Callee.(*ast.ArrowFunctionLiteral)
	if !ok {
		return nil, false
	}
	block, ok := arrow.Body.(*ast.BlockStatement)
	if !ok {
		return nil, false
	}
	return block.List, true
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

func allHelpers(names []string) bool {
	for _, n := range names {
		if !strings.HasPrefix(n, "__") {
			return false
		}
	}
	return len(names) > 0
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
