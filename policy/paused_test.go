package policy

import "testing"

func TestMergePaused(t *testing.T) {
	tests := []struct {
		name      string
		org, repo string
		want      bool
	}{
		{"nobody pauses", "", "", false},
		{"org pauses", "paused: true\n", "", true},
		{"repo cannot lift the org's pause", "paused: true\n", "paused: false\n", true},
		{"repo pauses itself", "", "paused: true\n", true},
		{"explicitly running", "paused: false\n", "paused: false\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := mergeYAML(t, tt.org, tt.repo)
			if err != nil {
				t.Fatal(err)
			}
			if e.Paused != tt.want {
				t.Errorf("Paused = %v, want %v", e.Paused, tt.want)
			}
		})
	}
	if _, err := Parse("repo.yml", []byte("paused: yes please\n")); err == nil {
		t.Error("a non-boolean paused was accepted")
	}
}
