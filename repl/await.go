package repl

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/file"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja/token"
)

// Entries that await at top level, rewritten the way Node's REPL does
// (its lib/internal/repl/await.js): the entry runs in an async arrow
// function, and what it declares for later entries is declared before it,
// in the same script:
//
//	var a, f; let b, C; (async () => {
//	globalThis["f"] = f; void (a = await x); void (b = 1);
//	C = class C {}; function f() {}
//	return { value: (b + 1) }
//	})()
//
//   - var declarations anywhere outside functions (blocks, loops, loop
//     heads included) become assignments to global vars;
//   - let, const and class declarations directly at the top of the entry
//     become assignments to global lets (a const is a let afterwards, as in
//     Node), so that declaring one of them again in a later entry is an
//     error, as in Node; in blocks and loops they stay local;
//   - function declarations outside functions are copied to global vars;
//   - the value of a last expression statement is returned wrapped in an
//     object, so that a promise it holds is printed, not awaited;
//   - a top-level return, or await in a class field or static block, is a
//     SyntaxError (Node runs such an entry as a script, which rejects it).
//
// Edits are made in the text as typed, at positions taken from goja's
// parser. goja's end positions leave out closing parentheses (and the `()`
// of `new X()`): ends are worked out here (end). goja's parser does not
// know `for await`: its `await` is blanked for the parse (blankForAwait).

const (
	asyncOpen  = "(async () => {\n"
	asyncClose = "\n})()"
)

// awaitEntry is an entry with top-level await, rewritten.
type awaitEntry struct {
	decls   string   // "var a, f; let b, C; ": declarations before the wrapper
	body    string   // the entry rewritten, for the wrapper's body
	lexical []string // the global lets declared
	value   bool     // the body returns { value: … }
}

// script returns the script that runs the entry: its promise is the
// completion value. With sameLine, the wrapper opens on the entry's first
// line (line numbers then match the entry's).
func (e *awaitEntry) script(sameLine bool) string {
	open := asyncOpen
	if sameLine {
		open = strings.TrimSuffix(asyncOpen, "\n")
	}
	return e.decls + open + e.body + asyncClose
}

// syntaxError is a syntax error found by the rewrite.
type syntaxError string

func (e syntaxError) Error() string { return string(e) }

const (
	errIllegalReturn = syntaxError("Illegal return statement")
	errAwaitInClass  = syntaxError("await is only valid in async functions and the top level bodies of modules (a class field initializer or static block is a function of its own)")
)

// rewriteAwait rewrites src when it awaits at top level (outside any
// function). It returns nil and no error when src does not, or when
// goja's parser cannot read src wrapped in an async function: the entry
// is then a script (whose compilation reports its errors).
func rewriteAwait(src string) (*awaitEntry, error) {
	wrapped := asyncOpen + src + asyncClose
	pc, forAwait := blankForAwait(wrapped)
	prog, err := parser.ParseFile(nil, "", pc, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, nil
	}
	body, ok := asyncBody(prog)
	if !ok {
		return nil, nil
	}
	w := &awaitWalker{src: pc, forAwait: forAwait}
	for _, st := range body {
		w.visit(st, true, true)
	}
	if w.err != nil {
		return nil, w.err
	}
	if !w.await {
		return nil, nil
	}
	if w.ret {
		return nil, errIllegalReturn
	}
	e := &awaitEntry{}
	last := -1
	for i := len(body) - 1; i >= 0; i-- {
		if _, empty := body[i].(*ast.EmptyStatement); !empty {
			last = i
			break
		}
	}
	if last >= 0 {
		if es, ok := body[last].(*ast.ExpressionStatement); ok {
			prev := len(asyncOpen)
			if last > 0 {
				prev = w.stmtEnd(body[last-1])
			}
			start := w.skip(prev, ");")
			w.insert(start, "return { value: (")
			w.insert(w.end(es.Expression), ") }")
			e.value = true
		}
	}
	out, err := applyEdits(wrapped, w.edits)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(out, asyncOpen) || !strings.HasSuffix(out, asyncClose) {
		return nil, errors.New("internal error: the rewrite of the entry touched its wrapper")
	}
	e.body = w.fnCopies.String() + out[len(asyncOpen):len(out)-len(asyncClose)]
	vars := dedupe(w.vars)
	if len(vars) > 0 {
		e.decls += "var " + strings.Join(vars, ", ") + "; "
	}
	if len(w.lets) > 0 {
		e.decls += "let " + strings.Join(w.lets, ", ") + "; "
	}
	e.lexical = w.lets
	return e, nil
}

var forAwaitRe = regexp.MustCompile(`\bfor[ \t]+await[ \t]*\(`)

// blankForAwait returns src with the `await` of each `for await (`
// replaced by spaces, and the offsets of their `for` keywords. A match in
// a string or a comment changes only the text goja parses (positions stay
// the same); the edits go into the text as typed.
func blankForAwait(src string) (string, map[int]bool) {
	locs := forAwaitRe.FindAllStringIndex(src, -1)
	if len(locs) == 0 {
		return src, nil
	}
	b := []byte(src)
	at := make(map[int]bool, len(locs))
	for _, l := range locs {
		i := l[0] + len("for")
		for b[i] == ' ' || b[i] == '\t' {
			i++
		}
		copy(b[i:i+len("await")], "     ")
		at[l[0]] = true
	}
	return string(b), at
}

type edit struct {
	from, to int
	text     string
}

// applyEdits makes the edits in src; edits at one place keep their order.
func applyEdits(src string, edits []edit) (string, error) {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].from < edits[j].from })
	var b strings.Builder
	pos := 0
	for _, e := range edits {
		if e.from < pos || e.to < e.from || e.to > len(src) {
			return "", errors.New("internal error: overlapping rewrite of the entry")
		}
		b.WriteString(src[pos:e.from])
		b.WriteString(e.text)
		pos = e.to
	}
	b.WriteString(src[pos:])
	return b.String(), nil
}

// awaitWalker walks the statements of an entry outside functions.
type awaitWalker struct {
	src      string // the wrapped entry, for await blanked
	forAwait map[int]bool
	edits    []edit
	vars     []string // names declared as global vars
	lets     []string // names declared as global lets
	fnCopies strings.Builder
	await    bool // the entry awaits (or loops with for await)
	ret      bool // the entry returns
	err      error
}

func (w *awaitWalker) insert(at int, text string) { w.edits = append(w.edits, edit{at, at, text}) }

func (w *awaitWalker) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// visit walks n. top: n is a statement of the entry itself; inList: n is
// in a statement list (a function declaration can be preceded by a
// statement).
func (w *awaitWalker) visit(n ast.Node, top, inList bool) {
	if isNil(n) {
		return
	}
	switch n := n.(type) {
	case *ast.FunctionLiteral, *ast.ArrowFunctionLiteral:
		// A function of its own: nothing in it is at top level.
	case *ast.AwaitExpression:
		w.await = true
		w.visit(n.Argument, false, false)
	case *ast.ReturnStatement:
		w.ret = true
		w.visit(n.Argument, false, false)
	case *ast.VariableStatement:
		w.declare(off(n.Var), "var", n.List)
	case *ast.LexicalDeclaration:
		if !top {
			w.children(n)
			return
		}
		kw := "let"
		if n.Token == token.CONST {
			kw = "const"
		}
		w.declare(off(n.Idx), kw, n.List)
	case *ast.FunctionDeclaration:
		if n.Function.Name == nil {
			return
		}
		name := n.Function.Name.Name.String()
		copyFn := fmt.Sprintf("globalThis[%q] = %s; ", name, name)
		switch {
		case top: // at the start: the function is there before any await
			w.fnCopies.WriteString(copyFn)
		case inList: // in a block: where it is declared, as Node
			w.insert(off(n.Idx0()), copyFn)
		default: // `if (x) function f() {}`: stays local
			return
		}
		w.vars = append(w.vars, name)
	case *ast.ClassDeclaration:
		if top && n.Class.Name != nil {
			name := n.Class.Name.Name.String()
			w.lets = append(w.lets, name)
			w.insert(off(n.Class.Class), name+" = ")
			w.insert(off(n.Class.RightBrace)+1, ";")
		}
		w.class(n.Class)
	case *ast.ClassLiteral:
		w.class(n)
	case *ast.BlockStatement:
		for _, st := range n.List {
			w.visit(st, false, true)
		}
	case *ast.CaseStatement:
		w.visit(n.Test, false, false)
		for _, st := range n.Consequent {
			w.visit(st, false, true)
		}
	case *ast.ForStatement:
		if v, ok := n.Initializer.(*ast.ForLoopInitializerVarDeclList); ok {
			w.declare(w.forVar(off(n.For)), "var", v.List)
		} else {
			w.visit(n.Initializer, false, false)
		}
		w.visit(n.Test, false, false)
		w.visit(n.Update, false, false)
		w.visit(n.Body, false, false)
	case *ast.ForInStatement:
		w.forInto(off(n.For), n.Into)
		w.visit(n.Source, false, false)
		w.visit(n.Body, false, false)
	case *ast.ForOfStatement:
		if w.forAwait[off(n.For)] {
			w.await = true
		}
		w.forInto(off(n.For), n.Into)
		w.visit(n.Source, false, false)
		w.visit(n.Body, false, false)
	default:
		w.children(n)
	}
}

// children visits the nodes n holds (found by reflection: every field,
// slice element or embedded value that is a node).
func (w *awaitWalker) children(n ast.Node) {
	v := reflect.ValueOf(n)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := 0; i < v.NumField(); i++ {
		if t.Field(i).Name == "DeclarationList" || !t.Field(i).IsExported() {
			continue
		}
		w.value(v.Field(i))
	}
}

var nodeType = reflect.TypeOf((*ast.Node)(nil)).Elem()

func (w *awaitWalker) value(f reflect.Value) {
	switch f.Kind() {
	case reflect.Interface, reflect.Pointer:
		if f.IsNil() {
			return
		}
		if n, ok := f.Interface().(ast.Node); ok {
			w.visit(n, false, false)
		}
	case reflect.Slice:
		for j := 0; j < f.Len(); j++ {
			w.value(f.Index(j))
		}
	case reflect.Struct:
		if f.CanAddr() && f.Addr().Type().Implements(nodeType) {
			w.visit(f.Addr().Interface().(ast.Node), false, false)
		}
	}
}

func isNil(n ast.Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// class walks a class: its heritage and computed keys belong to the
// code around it; its field initializers and static blocks are functions
// of their own, where await is an error.
func (w *awaitWalker) class(c *ast.ClassLiteral) {
	w.visit(c.SuperClass, false, false)
	for _, el := range c.Body {
		switch el := el.(type) {
		case *ast.FieldDefinition:
			if el.Computed {
				w.visit(el.Key, false, false)
			}
			if w.awaits(el.Initializer) {
				w.fail(errAwaitInClass)
			}
		case *ast.MethodDefinition:
			if el.Computed {
				w.visit(el.Key, false, false)
			}
		case *ast.ClassStaticBlock:
			if w.awaits(el.Block) {
				w.fail(errAwaitInClass)
			}
		}
	}
}

// awaits reports whether n awaits outside the functions in it.
func (w *awaitWalker) awaits(n ast.Node) bool {
	sub := &awaitWalker{src: w.src, forAwait: w.forAwait}
	sub.visit(n, false, false)
	return sub.await
}

// declare rewrites a var, let or const declaration whose keyword is at kw
// into assignments: `let a = 1, b` → `void (a = 1, b = undefined)`. A var
// without initializer keeps the variable's value (`void (a)`).
func (w *awaitWalker) declare(kw int, keyword string, list []*ast.Binding) {
	if kw < 0 || !strings.HasPrefix(w.src[kw:], keyword) || len(list) == 0 {
		w.fail(fmt.Errorf("internal error: no %q where the entry's declaration starts", keyword))
		return
	}
	var names []string
	for _, b := range list {
		boundNames(b.Target, &names)
	}
	if keyword == "var" {
		w.vars = append(w.vars, names...)
	} else {
		w.lets = append(w.lets, names...)
	}
	w.edits = append(w.edits, edit{kw, kw + len(keyword), "void ("})
	for i, b := range list {
		w.visit(b.Target, false, false) // defaults in patterns may await
		var end int
		if b.Initializer != nil {
			w.visit(b.Initializer, false, false)
			end = w.end(b.Initializer)
		} else {
			end = w.end(b.Target)
			if keyword != "var" {
				w.insert(end, " = undefined")
			}
		}
		if i == len(list)-1 {
			w.insert(end, ")")
			// `let a` ended by a line break: the next line must not
			// continue the assignment (`[b] = c`, `(f)()`).
			if j := w.skip(end, ""); j >= len(w.src) || w.src[j] != ';' {
				w.insert(end, ";")
			}
		}
	}
}

// forInto handles the head of a for-in or for-of loop whose for keyword
// is at at: `for (var x of y)` becomes `for ( x of y)` with x a global var.
func (w *awaitWalker) forInto(at int, into ast.ForInto) {
	v, ok := into.(*ast.ForIntoVar)
	if !ok || v.Binding.Initializer != nil {
		w.visit(into, false, false)
		return
	}
	kw := w.forVar(at)
	if kw < 0 {
		w.fail(errors.New("internal error: no var in the head of a for loop of the entry"))
		return
	}
	boundNames(v.Binding.Target, &w.vars)
	w.edits = append(w.edits, edit{kw, kw + len("var"), ""})
	w.visit(v.Binding.Target, false, false)
}

// forVar finds the var keyword in the head of the for loop at at, or -1.
func (w *awaitWalker) forVar(at int) int {
	i := w.skip(at+len("for"), "")
	if i < len(w.src) && w.src[i] == '(' {
		i = w.skip(i+1, "")
	}
	if strings.HasPrefix(w.src[i:], "var") {
		return i
	}
	return -1
}

// skip returns the offset of the first byte at or after i that is not
// white space, a comment or one of the bytes in also.
func (w *awaitWalker) skip(i int, also string) int {
	s := w.src
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			i++
		case strings.HasPrefix(s[i:], "\u00a0"), strings.HasPrefix(s[i:], "\ufeff"),
			strings.HasPrefix(s[i:], "\u2028"), strings.HasPrefix(s[i:], "\u2029"):
			_, size := firstRune(s[i:])
			i += size
		case strings.HasPrefix(s[i:], "//"):
			j := strings.IndexAny(s[i:], "\n\r")
			if j < 0 {
				return len(s)
			}
			i += j
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return len(s)
			}
			i += 2 + j + 2
		case strings.IndexByte(also, c) >= 0:
			i++
		default:
			return i
		}
	}
	return i
}

func firstRune(s string) (rune, int) {
	for _, r := range s {
		return r, len(string(r))
	}
	return 0, 0
}

// end returns the offset just after expression n as typed, with the
// closing parentheses around it: goja's Idx1 leaves them out. Only for an
// expression that ends where its statement or declarator does: every `)`
// after it is its own.
func (w *awaitWalker) end(n ast.Node) int {
	e := w.rawEnd(n)
	for {
		j := w.skip(e, "")
		if j < len(w.src) && w.src[j] == ')' {
			e = j + 1
			continue
		}
		return e
	}
}

// rawEnd is Idx1, corrected where goja's is short by more than
// parentheses: through the nodes whose end is that of their last part.
func (w *awaitWalker) rawEnd(n ast.Node) int {
	switch n := n.(type) {
	case *ast.AssignExpression:
		return w.end(n.Right)
	case *ast.AwaitExpression:
		return w.end(n.Argument)
	case *ast.BinaryExpression:
		return w.end(n.Right)
	case *ast.ConditionalExpression:
		return w.end(n.Alternate)
	case *ast.SequenceExpression:
		return w.end(n.Sequence[len(n.Sequence)-1])
	case *ast.UnaryExpression:
		e := w.end(n.Operand)
		if n.Postfix {
			j := w.skip(e, "")
			if strings.HasPrefix(w.src[j:], "++") || strings.HasPrefix(w.src[j:], "--") {
				return j + 2
			}
		}
		return e
	case *ast.YieldExpression:
		if n.Argument != nil {
			return w.end(n.Argument)
		}
	case *ast.ArrowFunctionLiteral:
		if b, ok := n.Body.(*ast.ExpressionBody); ok {
			return w.end(b.Expression)
		}
	case *ast.OptionalChain:
		return w.end(n.Expression)
	case *ast.Optional:
		return w.end(n.Expression)
	case *ast.Identifier:
		// goja's Idx1 counts the name in its own encoding (UTF-16 when it
		// is not ASCII), not the bytes typed.
		return identEnd(w.src, off(n.Idx))
	case *ast.NewExpression:
		if n.ArgumentList == nil { // `new X` or `new X()`
			e := w.end(n.Callee)
			if j := w.skip(e, ""); j < len(w.src) && w.src[j] == '(' {
				if k := w.skip(j+1, ""); k < len(w.src) && w.src[k] == ')' {
					return k + 1
				}
			}
			return e
		}
	}
	return off(n.Idx1())
}

// identEnd returns the end of the identifier at i in src: identifier
// characters and \u escapes.
func identEnd(src string, i int) int {
	for i < len(src) {
		r, size := utf8.DecodeRuneInString(src[i:])
		switch {
		case r == '\\' && i+1 < len(src) && src[i+1] == 'u':
			j := i + 2
			if j < len(src) && src[j] == '{' {
				for j < len(src) && src[j] != '}' {
					j++
				}
				j++
			} else {
				j += 4
			}
			i = min(j, len(src))
			continue
		case r == '$' || r == '_' || r == '\u200c' || r == '\u200d' ||
			unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Nl, unicode.Other_ID_Start, unicode.Other_ID_Continue):
			i += size
			continue
		}
		break
	}
	return i
}

// stmtEnd returns where statement st ends (before a semicolon).
func (w *awaitWalker) stmtEnd(st ast.Statement) int {
	switch st := st.(type) {
	case *ast.ExpressionStatement:
		return w.end(st.Expression)
	case *ast.VariableStatement:
		return w.bindingEnd(st.List[len(st.List)-1])
	case *ast.LexicalDeclaration:
		return w.bindingEnd(st.List[len(st.List)-1])
	case *ast.ReturnStatement:
		if st.Argument != nil {
			return w.end(st.Argument)
		}
	case *ast.ThrowStatement:
		return w.end(st.Argument)
	case *ast.IfStatement:
		if st.Alternate != nil {
			return w.stmtEnd(st.Alternate)
		}
		return w.stmtEnd(st.Consequent)
	case *ast.LabelledStatement:
		return w.stmtEnd(st.Statement)
	case *ast.ForStatement:
		return w.stmtEnd(st.Body)
	case *ast.ForInStatement:
		return w.stmtEnd(st.Body)
	case *ast.ForOfStatement:
		return w.stmtEnd(st.Body)
	case *ast.WhileStatement:
		return w.stmtEnd(st.Body)
	case *ast.WithStatement:
		return w.stmtEnd(st.Body)
	}
	return off(st.Idx1())
}

func (w *awaitWalker) bindingEnd(b *ast.Binding) int {
	if b.Initializer != nil {
		return w.end(b.Initializer)
	}
	return w.end(b.Target)
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
