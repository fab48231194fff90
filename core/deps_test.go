package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDependenciesPointInward keeps the architecture of DESIGN.md true: core
// imports no other hostdeck package but its pure helpers, adapters never import a
// face, and faces never import an adapter.
func TestDependenciesPointInward(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "hostdeck/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	adapters := []string{"hostdeck/store", "hostdeck/runtime", "hostdeck/task", "hostdeck/notify", "hostdeck/remote"}
	has := func(deps []string, prefixes ...string) string {
		for _, d := range deps {
			for _, p := range prefixes {
				if d == p || strings.HasPrefix(d, p+"/") {
					return d
				}
			}
		}
		return ""
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, deps := f[0], f[1:]
		var bad string
		switch {
		case pkg == "hostdeck/core" || strings.HasPrefix(pkg, "hostdeck/core/"):
			for _, d := range deps {
				if strings.HasPrefix(d, "hostdeck/") && !strings.HasPrefix(d, "hostdeck/core") {
					bad = d
				}
			}
		case strings.HasPrefix(pkg, "hostdeck/api/"):
			bad = has(deps, adapters...)
		case has([]string{pkg}, adapters...) != "":
			bad = has(deps, "hostdeck/api", "hostdeck/cmd")
		}
		if bad != "" {
			t.Errorf("%s imports %s", pkg, bad)
		}
	}
}

// TestFacesDoNotBuildActors keeps the actor core's: a face authenticates by
// calling a login entry point and puts the Actor it returns in the context;
// it never makes one itself.
func TestFacesDoNotBuildActors(t *testing.T) {
	files, err := filepath.Glob("../api/*/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no face sources: %v", err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.CompositeLit); ok {
				if sel, ok := lit.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Actor" {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == "core" {
						t.Errorf("%s builds a core.Actor: take the one a login returns", path)
					}
				}
			}
			return true
		})
	}
}
