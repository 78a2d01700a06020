package amqpjs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// apiPackages are the packages whose exported API must be documented,
// relative to the module root.
var apiPackages = []string{
	"pkg/amqpjs",
	"runtime",
	"runtime/metrics",
	"runtime/scenario",
	"runtime/types",
	"bindings",
	"bindings/types",
	"amqp",
}

// TestExportedSymbolsDocumented fails on an exported identifier without a
// doc comment in the API packages: package-level types, functions,
// constants and variables (a documented const/var group covers its
// members, and a trailing line comment counts), and methods of exported
// types, Error and String included. Each package needs a package comment.
func TestExportedSymbolsDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, rel := range apiPackages {
		dir := filepath.Join(root, filepath.FromSlash(rel))
		if _, err := os.Stat(dir); err != nil {
			continue // a package not written yet
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, pkg := range pkgs {
			hasPkgDoc := false
			for _, f := range pkg.Files {
				if f.Doc != nil {
					hasPkgDoc = true
				}
				for _, miss := range undocumented(fset, f) {
					t.Errorf("%s: %s has no doc comment", miss.pos, miss.name)
				}
			}
			if !hasPkgDoc {
				t.Errorf("package %s (%s) has no package comment", pkg.Name, rel)
			}
		}
	}
}

type missing struct {
	pos  token.Position
	name string
}

func undocumented(fset *token.FileSet, f *ast.File) []missing {
	var out []missing
	add := func(pos token.Pos, name string) { out = append(out, missing{fset.Position(pos), name}) }
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			name := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) > 0 {
				recv := receiverName(d.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue // a method of an unexported type is not API
				}
				name = recv + "." + name
			}
			add(d.Pos(), "func "+name)
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						add(s.Pos(), "type "+s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
							add(n.Pos(), d.Tok.String()+" "+n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

func receiverName(t ast.Expr) string {
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
