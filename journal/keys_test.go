package journal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestKeysDistinct: two names for one key would share one journal entry,
// so one step would think the other's effect was its own.
func TestKeysDistinct(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "keys.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				var lit *ast.BasicLit
				switch v := vs.Values[i].(type) {
				case *ast.BasicLit:
					lit = v
				case *ast.CallExpr: // Key("…")
					lit, _ = v.Args[0].(*ast.BasicLit)
				}
				if lit == nil {
					t.Fatalf("%s: not a literal key", name.Name)
				}
				val, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				if other, dup := seen[val]; dup {
					t.Errorf("%s and %s are both %q", other, name.Name, val)
				}
				seen[val] = name.Name
			}
		}
	}
	if len(seen) < 40 {
		t.Fatalf("read %d keys from keys.go; the parse missed some", len(seen))
	}
}

func TestNamedKeys(t *testing.T) {
	for _, tt := range []struct {
		got  Key
		want string
	}{
		{ReactionWith("rocket"), "reaction.rocket"},
		{Retried("r2"), "retried:r2"},
		{TextChanged("d1"), "comment.text_changed.d1"},
		{ApprovalReply("Alice"), "approval.reply.alice"},
		{Once("run.reverted", "d1"), "audit.run.reverted:d1"},
	} {
		if string(tt.got) != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
