package runtime

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

func runSource(t *testing.T, name, src string) result {
	t.Helper()
	var stdout, stderr testutil.SyncBuffer
	rt := New(Options{Stdout: &stdout, Stderr: &stderr})
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	exports, err := rt.RunSource(ctx, name, src)
	var ex any
	if exports != nil {
		ex = exports.Export()
	}
	return result{rt: rt, stdout: stdout.String(), stderr: stderr.String(), err: err, exports: ex}
}

func TestRunSourceModulesTSAndTLA(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"lib.ts": "export const twice = (n: number): number => n * 2\n"})
	src := `import { twice } from './lib'
const n: number = await Promise.resolve(21)
console.log(twice(n), process.argv[1].endsWith('inline.ts'))
export const done = true
`
	res := runSource(t, filepath.Join(dir, "inline.ts"), src)
	if res.err != nil {
		t.Fatalf("run: %s", res.rt.FormatError(res.err))
	}
	wantOut(t, res.stdout, "42 true\n")
}

func TestRunSourceErrors(t *testing.T) {
	dir := t.TempDir()
	res := runSource(t, filepath.Join(dir, "boom.js"), "const a = 1\nnull.x\n")
	msg := res.rt.FormatError(res.err)
	for _, want := range []string{"boom.js:2\nnull.x\n     ^", "TypeError", "boom.js:2:6"} {
		if !strings.Contains(msg, want) {
			t.Errorf("FormatError lacks %q:\n%s", want, msg)
		}
	}
	if code := res.rt.ExitCodeOf(res.err); code != ExitFailure {
		t.Errorf("exit code %d, want %d", code, ExitFailure)
	}

	res = runSource(t, "", "let x = ;\n")
	se := errorAs[*SyntaxError](t, res.err)
	if filepath.Base(se.File) != DefaultSourceName || se.Line != 1 || se.Column != 8 {
		t.Errorf("syntax error at %s:%d:%d", se.File, se.Line, se.Column)
	}
	if code := res.rt.ExitCodeOf(res.err); code != ExitUsage {
		t.Errorf("exit code %d, want %d", code, ExitUsage)
	}
}
