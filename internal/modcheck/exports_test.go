package modcheck

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shared are the names of package store that the root declares on purpose:
// the sentinels its admin methods return, the store's own values, so that a
// host never needs package store to tell them apart.
var shared = []string{"ErrNotFound", "ErrConflict", "ErrInvalid"}

// TestRootDeclaresNoStoreName fails when the root package declares an
// exported name that package store exports (a record such as User or
// Grant, a capability such as TokenStore, a helper such as NewID or
// HashToken), but for the shared sentinels, which must be store's own.
func TestRootDeclaresNoStoreName(t *testing.T) {
	root := exported(t, filepath.Join("..", ".."))
	st := exported(t, filepath.Join("..", "..", "store"))
	if len(st) == 0 || st["Store"] == nil {
		t.Fatalf("package store exports no Store: the check would see nothing")
	}
	for _, name := range slices.Sorted(maps.Keys(root)) {
		if st[name] == nil {
			continue
		}
		if !slices.Contains(shared, name) {
			t.Errorf("the root package declares %s, a name of package store (%s): a host would see the storage contract; keep it in store only",
				name, root[name].pos)
			continue
		}
		if v := root[name].value; !isSelector(v, "store", name) {
			t.Errorf("the root's %s (%s) is not store.%s: it must be the store's own sentinel, so that errors.Is matches what stores return",
				name, root[name].pos, name)
		}
	}
	for _, name := range shared {
		if root[name] == nil {
			t.Errorf("the root package no longer declares %s: hosts test the admin methods' errors with it", name)
		}
	}
}

// A decl is an exported package-level name: where it is declared and, for a
// variable or constant, the expression it is given.
type decl struct {
	pos   string // file:line
	value ast.Expr
}

// exported returns the exported package-level names declared by the
// non-test Go files of the package in dir that build for this platform.
func exported(t *testing.T, dir string) map[string]*decl {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	names := map[string]*decl{}
	add := func(id *ast.Ident, value ast.Expr) {
		if id.IsExported() {
			pos := fset.Position(id.Pos())
			names[id.Name] = &decl{pos: fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line), value: value}
		}
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, filepath.Base(path)); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					add(d.Name, nil)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						add(s.Name, nil)
					case *ast.ValueSpec:
						for i, id := range s.Names {
							var v ast.Expr
							if i < len(s.Values) {
								v = s.Values[i]
							}
							add(id, v)
						}
					}
				}
			}
		}
	}
	if len(names) == 0 {
		t.Fatalf("no exported names in %s", dir)
	}
	return names
}

// isSelector says whether e is pkg.name.
func isSelector(e ast.Expr, pkg, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}
