package runtime

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Helpers for hosts that evaluate snippets in a live runtime (the REPL).

// SetErrorHook sets fn to see every error that would end [Loop.Run]: an
// exception from a task (a timer or consumer callback), a [Loop.Fail], an
// unhandled rejection. When fn returns true the error is taken as reported
// and the loop goes on; false ends the run as without a hook. fn runs on
// the loop. Loop only, or before Run.
func (l *Loop) SetErrorHook(fn func(err error) (handled bool)) { l.errHook = fn }

// Snippet is one snippet of script source (a REPL entry) compiled by
// [TransformSnippet].
type Snippet struct {
	// Code is the compiled source, without a source map.
	Code string
	// TopLevelAwait tells that Code awaits at top level: the caller must
	// run it in an async function.
	TopLevelAwait bool

	name     string
	mappings string // esbuild's, for Code
}

// TransformSnippet compiles a snippet with the syntax lowering scripts get
// (see transform), without turning it into a module: top-level
// declarations stay script declarations and the value of the last
// expression statement stays the completion value. Top-level await is left
// in place and reported; so are import and export statements (goja rejects
// them). A source that does not parse gives a [*SyntaxError] whose File is
// name. Under GOOS=js, where the host's esbuild compiles (see
// transform_js.go), a host without it gives another error.
func TransformSnippet(name, src string) (*Snippet, error) {
	opts := esOptions{
		loader:     "js",
		sourcefile: name,
		supported:  map[string]bool{"top-level-await": false, "async-await": true, "async-generator": false, "for-await": false, "bigint": true},
	}
	// esbuild v0.28 hangs making the source map of a string literal that
	// holds invalid UTF-8: replace such bytes first (goja would read them
	// as U+FFFD anyway).
	src = strings.ToValidUTF8(src, "\uFFFD")
	tla := false
	res, err := esTransform(src, opts)
	if err != nil {
		return nil, err
	}
	if len(res.errors) > 0 && hasTLAError(res.errors) {
		tla = true
		opts.supported["top-level-await"] = true
		if res, err = esTransform(src, opts); err != nil {
			return nil, err
		}
	}
	if len(res.errors) > 0 {
		return nil, toSyntaxError(name, res.errors[0])
	}
	s := &Snippet{Code: res.code, TopLevelAwait: tla, name: name}
	var m struct {
		Mappings string `json:"mappings"`
	}
	if json.Unmarshal(res.sourceMap, &m) == nil {
		s.mappings = m.Mappings
	}
	return s, nil
}

// SourceMap returns the comment line (to end a script with) that maps the
// positions of Code back to the snippet, so that stack traces show the
// snippet's name, lines and columns. linesBefore is the number of lines
// the script puts before Code (a wrapper's opening line). Lines that the
// caller rewrote keep their mapping, approximately.
func (s *Snippet) SourceMap(linesBefore int) string {
	if s.mappings == "" {
		return ""
	}
	return sourceMapComment(s.name, s.mappings, linesBefore)
}

// IdentitySourceMap returns the comment line that maps a script holding
// src as it is, after linesBefore lines of its own, back to src under name.
// Code that needs no compiling runs as typed; the map gives its stack
// positions the name and the 1-based columns of the source-mapped files
// (see CleanStack).
func IdentitySourceMap(name, src string, linesBefore int) string {
	var b strings.Builder
	srcLine, srcCol := 0, 0 // of the previous segment
	for i, line := range strings.Split(src, "\n") {
		if i > 0 {
			b.WriteByte(';')
		}
		col := 0
		for range line {
			if col == 0 {
				b.WriteString(encodeVLQ(0) + encodeVLQ(0) + encodeVLQ(i-srcLine) + encodeVLQ(-srcCol))
			} else {
				b.WriteString(",CAAC") // next column of the line, next source column
			}
			srcLine, srcCol = i, col
			col++
		}
	}
	return sourceMapComment(name, b.String(), linesBefore)
}

func sourceMapComment(name, mappings string, linesBefore int) string {
	m := map[string]any{
		"version":  3,
		"sources":  []string{name},
		"names":    []string{},
		"mappings": strings.Repeat(";", linesBefore) + shiftMappings(mappings),
	}
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return "\n//# sourceMappingURL=data:application/json;base64," + base64.StdEncoding.EncodeToString(b)
}
