package amqp

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportRule checks the layout's rule: amqp/ (with amqp/wire) and
// bench/ are the only packages that import amqp091-go, and the frame end
// octet, the mark of a hand-written frame, is written only in amqp/wire.
func TestImportRule(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if name := d.Name(); rel != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		checked++
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "github.com/rabbitmq/amqp091-go" && !strings.HasPrefix(rel, "amqp/") && !strings.HasPrefix(rel, "bench/") {
				t.Errorf("%s imports amqp091-go: only amqp/ and bench/ may", rel)
			}
		}
		if strings.HasPrefix(rel, "amqp/wire/") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if s := strings.ToLower(string(src)); strings.Contains(s, "0x"+"ce") {
			t.Errorf("%s writes the frame end octet itself: use amqp/wire", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d Go files under %s: not the repository", checked, root)
	}
}
