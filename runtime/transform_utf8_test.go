package runtime

import "testing"

// A source with invalid UTF-8 runs; the transform does not hang on it.
func TestInvalidUTF8Source(t *testing.T) {
	t.Parallel()
	r := runFiles(t, "main.js", map[string]string{"main.js": "const s = '\xe8';\nconsole.log(s.length, s.charCodeAt(0));\n"})
	if r.err != nil || r.stdout != "1 65533\n" {
		t.Fatalf("got stdout %q, err %v; want \"1 65533\\n\"", r.stdout, r.err)
	}
}
