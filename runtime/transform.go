package runtime

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// tlaSymbol names the property of a main module's exports that holds the
// promise of its body when the module uses top-level await.
const tlaSymbol = "amqpjs.tla"

// SyntaxError is a source file that does not parse. Its Error text is the
// file position, the message, the source line and a caret under the column.
type SyntaxError struct {
	File    string
	Line    int // 1-based
	Column  int // 0-based, in bytes
	Message string
	Text    string // the source line
}

// Error returns "file:line:col: SyntaxError: message", then the source
// line and a caret under the column.
func (e *SyntaxError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: SyntaxError: %s", e.File, e.Line, e.Column+1, e.Message)
	if e.Text != "" {
		b.WriteString("\n    ")
		b.WriteString(strings.ReplaceAll(e.Text, "\t", " "))
		b.WriteString("\n    ")
		b.WriteString(strings.Repeat(" ", e.Column))
		b.WriteString("^")
	}
	return b.String()
}

// transform turns the source of a .js/.mjs/.cjs/.ts file into CommonJS for
// the require wrapper: the result starts with a newline (so the wrapper's
// own text sits alone on line 1) and ends with an inline source map back to
// path, so stack positions point into the user's file. ES module syntax and
// TypeScript are handled by esbuild. Top-level await is allowed only when
// main is true: the body then runs in an async function whose promise is
// stored on exports under Symbol.for(tlaSymbol).
func transform(path string, src []byte, main bool) (string, error) {
	loader := "js"
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ts", ".mts", ".cts":
		loader = "ts"
	}
	// esbuild treats a ".mjs"/".mts" file as Node-mode ESM, whose default
	// import of any module is module.exports; but here every imported file
	// is ESM compiled to CommonJS (with __esModule), whose default import is
	// its "default" export. Name the file ".js"/".ts" for esbuild, and put the
	// real name back into the source map (see finish).
	sourcefile := path
	switch ext := filepath.Ext(path); strings.ToLower(ext) {
	case ".mjs":
		sourcefile = strings.TrimSuffix(path, ext) + ".js"
	case ".mts":
		sourcefile = strings.TrimSuffix(path, ext) + ".ts"
	}
	opts := esOptions{
		loader:     loader,
		format:     "cjs",
		sourcefile: sourcefile,
		supported:  map[string]bool{"async-await": true, "async-generator": false, "for-await": false, "bigint": true},
	}
	// esbuild hangs building a source map for invalid UTF-8; the JS
	// source is text, so replace invalid bytes as a decoder would.
	src = []byte(strings.ToValidUTF8(string(src), "\uFFFD"))
	res, err := esTransform(string(src), opts)
	if err != nil {
		return "", err
	}
	if len(res.errors) > 0 && hasTLAError(res.errors) {
		if !main {
			e := &SyntaxError{File: path, Message: "top-level await is only supported in the main script"}
			if l := res.errors[0].location; l != nil {
				e.Line, e.Column, e.Text = l.line, l.column, l.lineText
			}
			return "", e
		}
		return transformTLA(path, src, opts)
	}
	if len(res.errors) > 0 {
		return "", toSyntaxError(path, res.errors[0])
	}
	return finish(res.code, res.sourceMap, "", "", path)
}

// esbuildVersion is the version of esbuild that compiles the sources: the
// Go module github.com/evanw/esbuild in go.mod, and under GOOS=js the npm
// package esbuild of the JavaScript host (wasm/host/package.json), which
// must be the same so that both builds compile alike (a test checks it).
const esbuildVersion = "0.28.2"

// esOptions are the options of one esbuild transform that vary; the
// others are the same for every call: an external source map, target
// ES2020, no logging. esTransform runs it: with esbuild's Go API
// (transform_esbuild.go), or under GOOS=js with the host's esbuild npm
// package (transform_js.go), which takes the same options.
type esOptions struct {
	loader     string // "js" or "ts"
	format     string // "cjs", "esm", or "" to keep the module syntax
	sourcefile string
	supported  map[string]bool
}

// esResult is what esbuild returns: the code and its source map (JSON),
// or the errors (esbuild's messages) when the source does not compile.
type esResult struct {
	code      string
	sourceMap []byte
	errors    []esMessage
}

// esMessage is an esbuild error message; location is nil when esbuild
// gives none.
type esMessage struct {
	text     string
	location *esLocation
}

type esLocation struct {
	line     int // 1-based
	column   int // 0-based, in bytes
	lineText string
}

func hasTLAError(msgs []esMessage) bool {
	for _, m := range msgs {
		if strings.Contains(m.text, "Top-level await") {
			return true
		}
	}
	return false
}

func toSyntaxError(path string, m esMessage) error {
	e := &SyntaxError{File: path, Message: m.text}
	if m.location != nil {
		e.Line, e.Column, e.Text = m.location.line, m.location.column, m.location.lineText
	}
	return e
}

// finish prepends a newline and header, appends footer and the inline source
// map (shifted by one generated line for the newline, and by one generated
// column: see shiftMappings), whose source is path.
func finish(code string, sourceMap []byte, header, footer, path string) (string, error) {
	var b strings.Builder
	b.Grow(len(code) + len(sourceMap)*2 + len(header) + len(footer) + 64)
	b.WriteString(header)
	b.WriteByte('\n')
	b.WriteString(code)
	if footer != "" {
		if !strings.HasSuffix(code, "\n") {
			b.WriteByte('\n')
		}
		b.WriteString(footer)
	}
	if len(sourceMap) > 0 {
		var m map[string]any
		if err := json.Unmarshal(sourceMap, &m); err == nil {
			if s, ok := m["mappings"].(string); ok {
				m["mappings"] = ";" + shiftMappings(s)
			}
			m["sources"] = []string{path}
			if shifted, err := json.Marshal(m); err == nil {
				b.WriteString("\n//# sourceMappingURL=data:application/json;base64,")
				b.WriteString(base64.StdEncoding.EncodeToString(shifted))
			}
		}
	}
	return b.String(), nil
}

// transformTLA compiles a main script that uses top-level await: esbuild
// makes plain ES module JavaScript (types stripped, syntax normalised: one
// import per statement at column 0, exports gathered in one trailing
// `export { … }` clause), and the import/export statements are rewritten to
// CommonJS here, line for line, so the source map stays valid.
func transformTLA(path string, src []byte, opts esOptions) (string, error) {
	opts.format = "esm"
	opts.supported = map[string]bool{"top-level-await": true, "async-await": true, "async-generator": false, "for-await": false, "bigint": true}
	res, err := esTransform(string(src), opts)
	if err != nil {
		return "", err
	}
	if len(res.errors) > 0 {
		return "", toSyntaxError(path, res.errors[0])
	}
	body, exportDefs, err := esmToCJS(res.code)
	if err != nil {
		return "", &SyntaxError{File: path, Line: 1, Message: err.Error()}
	}
	header := `Object.defineProperty(exports, Symbol.for("` + tlaSymbol + `"), { value: (async () => {` + exportDefs
	return finish(body, res.sourceMap, header, "})() });", path)
}

var (
	reImportFrom = regexp.MustCompile(`^import\s+(.*?)\s+from\s+("[^"]*"|'[^']*');?\s*$`)
	reImportBare = regexp.MustCompile(`^import\s*("[^"]*"|'[^']*');?\s*$`)
	reExportStar = regexp.MustCompile(`^export\s*\*\s*from\s*("[^"]*"|'[^']*');?\s*$`)
	reExportList = regexp.MustCompile(`^export\s*\{([^}]*)\};?\s*$`)
)

// esmToCJS rewrites esbuild's normalised ES module output. It keeps the
// number of lines: a statement spanning n lines becomes its rewrite followed
// by n-1 empty lines. The export getters are returned separately, to be
// placed before the body (they are hoisted like ES exports).
func esmToCJS(code string) (string, string, error) {
	lines := strings.Split(code, "\n")
	var defs []string
	tmp := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		isImport := strings.HasPrefix(line, "import ") || strings.HasPrefix(line, "import{") || strings.HasPrefix(line, "import*") || strings.HasPrefix(line, `import"`)
		isExport := strings.HasPrefix(line, "export ") || strings.HasPrefix(line, "export{") || strings.HasPrefix(line, "export*")
		if !isImport && !isExport {
			continue
		}
		// Gather a statement that spans several lines (long import/export lists).
		end := i
		stmt := line
		for !strings.HasSuffix(strings.TrimSpace(stmt), ";") && end+1 < len(lines) && strings.Contains(stmt, "{") && !strings.Contains(stmt, "}") {
			end++
			stmt += " " + strings.TrimSpace(lines[end])
		}
		if !strings.HasSuffix(strings.TrimSpace(stmt), ";") && end+1 < len(lines) && strings.Contains(stmt, "}") && !strings.Contains(stmt, ";") {
			// "} from 'x'" closing on the next line is already joined above.
		}
		var out string
		switch {
		case isImport:
			if m := reImportBare.FindStringSubmatch(stmt); m != nil {
				out = "require(" + m[1] + ");"
			} else if m := reImportFrom.FindStringSubmatch(stmt); m != nil {
				tmp++
				out = importClause(m[1], m[2], tmp)
			} else {
				return "", "", fmt.Errorf("unsupported import statement: %s", stmt)
			}
		default:
			if m := reExportStar.FindStringSubmatch(stmt); m != nil {
				out = "__amqpjs_reexport(exports, require(" + m[1] + "));"
			} else if m := reExportList.FindStringSubmatch(stmt); m != nil {
				for _, spec := range strings.Split(m[1], ",") {
					spec = strings.TrimSpace(spec)
					if spec == "" {
						continue
					}
					local, exported := spec, spec
					if k := strings.Index(spec, " as "); k >= 0 {
						local, exported = strings.TrimSpace(spec[:k]), strings.TrimSpace(spec[k+4:])
					}
					defs = append(defs, fmt.Sprintf("Object.defineProperty(exports, %q, { enumerable: true, get: () => %s });", strings.Trim(exported, `"`), local))
				}
				out = ""
			} else {
				return "", "", fmt.Errorf("unsupported export statement: %s", stmt)
			}
		}
		lines[i] = out
		for j := i + 1; j <= end; j++ {
			lines[j] = ""
		}
		i = end
	}
	header := ""
	if len(defs) > 0 {
		header = ` Object.defineProperty(exports, "__esModule", { value: true }); ` + strings.Join(defs, " ")
	}
	return strings.Join(lines, "\n"), header, nil
}

// importClause rewrites the clause of `import <clause> from <mod>`.
func importClause(clause, mod string, n int) string {
	tmp := fmt.Sprintf("__amqpjs_m%d", n)
	var parts []string
	parts = append(parts, tmp+" = require("+mod+")")
	rest := strings.TrimSpace(clause)
	// default import first: `x`, `x, {…}`, `x, * as ns`
	if !strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, "*") {
		name := rest
		if k := strings.Index(rest, ","); k >= 0 {
			name, rest = strings.TrimSpace(rest[:k]), strings.TrimSpace(rest[k+1:])
		} else {
			rest = ""
		}
		parts = append(parts, name+" = __amqpjs_default("+tmp+")")
	}
	switch {
	case strings.HasPrefix(rest, "*"):
		ns := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(rest, "*")), "as"))
		parts = append(parts, ns+" = "+tmp)
	case strings.HasPrefix(rest, "{"):
		inner := strings.TrimSuffix(strings.TrimPrefix(rest, "{"), "}")
		var specs []string
		for _, spec := range strings.Split(inner, ",") {
			spec = strings.TrimSpace(spec)
			if spec == "" {
				continue
			}
			if k := strings.Index(spec, " as "); k >= 0 {
				spec = strings.TrimSpace(spec[:k]) + ": " + strings.TrimSpace(spec[k+4:])
			}
			specs = append(specs, spec)
		}
		parts = append(parts, "{ "+strings.Join(specs, ", ")+" } = "+tmp)
	}
	return "var " + strings.Join(parts, ", ") + ";"
}

// shiftMappings adds 1 to the generated column of every mapping. goja looks
// source maps up with the 1-based column of a position where the format
// (and go-sourcemap) use 0-based columns, so without the shift a position
// takes the mapping of the next character when one starts there (a call's
// "(" would be reported at its first argument). Only the first segment of each
// line holds an absolute generated column; the others are relative to it.
func shiftMappings(mappings string) string {
	lines := strings.Split(mappings, ";")
	for i, line := range lines {
		if line == "" {
			continue
		}
		col, n, ok := decodeVLQ(line)
		if !ok {
			return mappings
		}
		lines[i] = encodeVLQ(col+1) + line[n:]
	}
	return strings.Join(lines, ";")
}

const vlqChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeVLQ reads one base64 VLQ number from the start of s and returns it
// with the number of bytes it used.
func decodeVLQ(s string) (int, int, bool) {
	v, shift := 0, 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(vlqChars, s[i])
		if d < 0 {
			return 0, 0, false
		}
		v |= (d & 31) << shift
		if d&32 == 0 {
			if v&1 != 0 {
				return -(v >> 1), i + 1, true
			}
			return v >> 1, i + 1, true
		}
		shift += 5
	}
	return 0, 0, false
}

func encodeVLQ(v int) string {
	u := v << 1
	if v < 0 {
		u = (-v << 1) | 1
	}
	var b []byte
	for {
		d := u & 31
		u >>= 5
		if u > 0 {
			d |= 32
		}
		b = append(b, vlqChars[d])
		if u == 0 {
			return string(b)
		}
	}
}
