package mdcheck

import "testing"

func TestSlug(t *testing.T) {
	for _, tt := range []struct{ heading, want string }{
		{"Quick start", "quick-start"},
		{"Trust model, in a few lines", "trust-model-in-a-few-lines"},
		{"Repository configuration (.github/agentgate.yml)", "repository-configuration-githubagentgateyml"},
		{"Recovering missed webhooks: agentgate redeliver", "recovering-missed-webhooks-agentgate-redeliver"},
		{"Operating: health, GitHub failures and upgrades", "operating-health-github-failures-and-upgrades"},
		{"Tests: real parts, one fake", "tests-real-parts-one-fake"},
		{"snake_case and -dash-", "snake_case-and--dash-"},
		{"Überblick 🚀 2", "überblick--2"},
	} {
		if got := Slug(tt.heading); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.heading, got, tt.want)
		}
	}
}

func TestAnchors(t *testing.T) {
	r, err := Render("# A `code` title\n\n## Twice\n\n### Twice\n\ntext\n\n## Twice\n\n```\n# not a heading\n```\n")
	if err != nil {
		t.Fatal(err)
	}
	got := r.Anchors()
	for _, want := range []string{"a-code-title", "twice", "twice-1", "twice-2"} {
		if !got[want] {
			t.Errorf("anchors %v lack %q", got, want)
		}
	}
	if len(got) != 4 {
		t.Errorf("anchors %v, want 4", got)
	}
}
