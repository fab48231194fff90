package core_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// decisions lists where file decides a permission itself instead of asking
// core's access policy: a comparison or switch on a role (core.RoleAdmin,
// core.RoleMember, or any .Role, other than with nil: an input given or not);
// and in a face (face true), which may not even ask, a call of an
// authorisation function (core.Authorize, core.LoadPermissions, a
// Permissions(…) snapshot to Check or Can with) or a function of its own named
// like one (requireAdmin, isAdmin, checkRole, authorize…). Roles named as data
// (Keystone's list of roles, a role path value made member) are not decisions.
func decisions(fset *token.FileSet, file *ast.File, face bool) []string {
	var out []string
	report := func(n ast.Node, what string) {
		out = append(out, fset.Position(n.Pos()).String()+": "+what)
	}
	isRole := func(e ast.Expr) bool {
		sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
		if !ok {
			return false
		}
		if sel.Sel.Name == "Role" {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		return ok && pkg.Name == "core" && (sel.Sel.Name == "RoleAdmin" || sel.Sel.Name == "RoleMember")
	}
	isNil := func(e ast.Expr) bool {
		id, ok := ast.Unparen(e).(*ast.Ident)
		return ok && id.Name == "nil"
	}
	authorizer := regexp.MustCompile(`(?i)^(require|must|check|ensure|is|has)(admin|role|access|perm)|^authori[sz]e`)
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if (n.Op == token.EQL || n.Op == token.NEQ) && (isRole(n.X) || isRole(n.Y)) && !isNil(n.X) && !isNil(n.Y) {
				report(n, "compares a role")
			}
		case *ast.SwitchStmt:
			if n.Tag != nil && isRole(n.Tag) {
				report(n, "switches on a role")
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				if isRole(e) {
					report(e, "a case on a role")
				}
			}
		case *ast.SelectorExpr:
			if !face {
				break
			}
			if pkg, ok := n.X.(*ast.Ident); ok && pkg.Name == "core" && (n.Sel.Name == "Authorize" || n.Sel.Name == "LoadPermissions") {
				report(n, "calls core."+n.Sel.Name)
			}
			if n.Sel.Name == "Permissions" {
				report(n, "loads permissions to decide with")
			}
		case *ast.FuncDecl:
			if face && authorizer.MatchString(n.Name.Name) {
				report(n, "declares "+n.Name.Name)
			}
		}
		return true
	})
	return out
}

func parseSource(t *testing.T, name, src string) (*token.FileSet, *ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fset, f
}

// TestDecisionsDetector: the detector finds what the faces did before the access
// policy, and leaves roles named as data alone.
func TestDecisionsDetector(t *testing.T) {
	for _, src := range []string{
		`func requireAdmin(r *http.Request) error { return nil }`,
		`func f(u *core.User) error { return core.Authorize(u, core.RoleAdmin) }`,
		`func f(a *auth) { if a.user.Role == core.RoleAdmin { owner = "" } }`,
		`func f(u *core.User) bool { return "admin" != u.Role }`,
		`func f(u *core.User) { switch u.Role { } }`,
		`func f(r core.Role) { switch r { case core.RoleMember: } }`,
		`func f(ctx context.Context) { p, _ := svc.Permissions(ctx); _ = p.Can(core.ActionServerView, res) }`,
		`func isAdmin(u *core.User) bool { return false }`,
	} {
		fset, f := parseSource(t, "face.go", "package face\n"+src)
		if len(decisions(fset, f, true)) == 0 {
			t.Errorf("not found in %s", src)
		}
	}
	fset, f := parseSource(t, "keystone.go", `package face
var roles = []core.Role{core.RoleAdmin, core.RoleMember}
func grant(r *http.Request) {
	role := core.Role(strings.ToLower(r.PathValue("r")))
	if role == "_member_" {
		role = core.RoleMember
	}
	if u.Role != nil {
		ui.Role = (*core.Role)(u.Role)
	}
	a := core.Actor{UserID: u.ID, Role: u.Role}
	node{"role": text(string(u.Role))}
	acts, _ := svc.Actions(ctx, res)
}`)
	if d := decisions(fset, f, true); len(d) != 0 {
		t.Errorf("data taken for decisions: %v", d)
	}
}

// TestFacesDoNotAuthorize: faces authenticate and never authorise; every
// permission is core's access policy's (core/access.go). Nor does core decide one
// outside it: no role is compared in core but in access*.go.
func TestFacesDoNotAuthorize(t *testing.T) {
	check := func(root string, face bool, skip func(name string) bool) {
		t.Helper()
		fset := token.NewFileSet()
		n := 0
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || skip(d.Name()) {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			n++
			for _, d := range decisions(fset, f, face) {
				t.Errorf("%s", d)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("no Go files under %s", root)
		}
	}
	check(filepath.Join("..", "api"), true, func(string) bool { return false })
	check(".", false, func(name string) bool { return strings.HasPrefix(name, "access") })
}
