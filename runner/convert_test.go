package runner

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
)

var update = flag.Bool("update", false, "rewrite golden files")

func baseSpec() Spec {
	return Spec{
		RunID:    "run-1",
		WorkerID: "worker-a",
		Image:    "agentgate/testagent:dev",
		WorkTree: "/var/lib/agentgate/runs/run-1/tree",
		TaskFile: "/var/lib/agentgate/runs/run-1/task.md",
	}
}

func TestConvertGolden(t *testing.T) {
	tests := []struct {
		name string
		spec func() Spec
	}{
		{"defaults", baseSpec},
		{"full", func() Spec {
			s := baseSpec()
			s.Cmd = []string{"agent", "--json"}
			s.Env = []string{"OPENAI_BASE_URL=http://127.0.0.1:8081", "OPENAI_API_KEY=agentgate-placeholder"}
			s.OutDir = "/var/lib/agentgate/runs/run-1/out"
			s.Runtime = "runsc"
			s.User = "1000:1000"
			s.Limits = Limits{Timeout: time.Minute, MemoryBytes: 512 << 20, NanoCPUs: 500_000_000, Pids: 64, TmpfsBytes: 16 << 20, OutputBytes: 4096}
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, hc, err := Convert(tt.spec())
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			got, err := json.MarshalIndent(map[string]any{"Config": cfg, "HostConfig": hc}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "convert_"+tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Convert mismatch for %s (run go test -update after checking):\n%s", path, got)
			}
		})
	}
}

// TestConvertInvariants checks the security settings directly, so a golden
// file rewritten in a hurry cannot hide a regression.
func TestConvertInvariants(t *testing.T) {
	s := baseSpec()
	s.OutDir = "/out,ro=false:x" // odd characters stay one exact source
	cfg, hc, err := Convert(s)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "65532:65532" || cfg.WorkingDir != "/workspace" {
		t.Errorf("user %q, workdir %q", cfg.User, cfg.WorkingDir)
	}
	if hc.Privileged || !hc.ReadonlyRootfs || hc.NetworkMode != "none" || len(hc.Binds) != 0 {
		t.Errorf("privileged %v, readonly %v, network %q, binds %v", hc.Privileged, hc.ReadonlyRootfs, hc.NetworkMode, hc.Binds)
	}
	if strings.Join(hc.CapDrop, ",") != "ALL" || len(hc.CapAdd) != 0 {
		t.Errorf("caps drop %v add %v", hc.CapDrop, hc.CapAdd)
	}
	if strings.Join(hc.SecurityOpt, ",") != "no-new-privileges:true" {
		t.Errorf("security opts %v", hc.SecurityOpt)
	}
	if hc.Memory != DefaultMemoryBytes || hc.MemorySwap != hc.Memory || hc.NanoCPUs != DefaultNanoCPUs || hc.PidsLimit == nil || *hc.PidsLimit != DefaultPids {
		t.Errorf("resources %+v", hc.Resources)
	}
	if hc.Tmpfs["/tmp"] != "rw,noexec,nosuid,nodev,size=268435456" {
		t.Errorf("tmpfs %q", hc.Tmpfs["/tmp"])
	}
	if hc.LogConfig.Type != "none" {
		t.Errorf("log driver %q, want none", hc.LogConfig.Type)
	}
	want := map[string]struct {
		src string
		ro  bool
	}{
		"/workspace":         {s.WorkTree, false},
		"/agentgate/task.md": {s.TaskFile, true},
		"/agentgate/out":     {s.OutDir, false},
	}
	if len(hc.Mounts) != len(want) {
		t.Fatalf("mounts %+v", hc.Mounts)
	}
	for _, m := range hc.Mounts {
		w, ok := want[m.Target]
		if !ok || m.Type != mount.TypeBind || m.Source != w.src || m.ReadOnly != w.ro {
			t.Errorf("mount %+v", m)
		}
	}
	if cfg.Labels[LabelRun] != "run-1" || cfg.Labels[LabelWorker] != "worker-a" || cfg.Labels[LabelManaged] != "true" {
		t.Errorf("labels %v", cfg.Labels)
	}
}

func TestConvertRejects(t *testing.T) {
	tests := []struct {
		name    string
		mut     func(*Spec)
		wantErr string
	}{
		{"no run id", func(s *Spec) { s.RunID = "" }, "run id is empty"},
		{"blank worker id", func(s *Spec) { s.WorkerID = "a b" }, "worker id"},
		{"no image", func(s *Spec) { s.Image = "" }, "image"},
		{"relative work tree", func(s *Spec) { s.WorkTree = "tree" }, "not absolute"},
		{"unclean task file", func(s *Spec) { s.TaskFile = "/a/../etc/passwd" }, "not clean"},
		{"relative out dir", func(s *Spec) { s.OutDir = "out" }, "not absolute"},
		{"root user", func(s *Spec) { s.User = "0:0" }, "root"},
		{"root group", func(s *Spec) { s.User = "1000:0" }, "root"},
		{"bare uid", func(s *Spec) { s.User = "1000" }, "uid:gid"},
		{"named user", func(s *Spec) { s.User = "nobody:nogroup" }, "uid:gid"},
		{"runtime", func(s *Spec) { s.Runtime = "kata" }, "runtime"},
		{"negative memory", func(s *Spec) { s.Limits.MemoryBytes = -1 }, "negative"},
		{"tiny memory", func(s *Spec) { s.Limits.MemoryBytes = 1 << 20 }, "minimum"},
		{"negative timeout", func(s *Spec) { s.Limits.Timeout = -time.Second }, "negative"},
		{"env no equals", func(s *Spec) { s.Env = []string{"FOO"} }, "not KEY=VALUE"},
		{"env bad key", func(s *Spec) { s.Env = []string{"1FOO=x"} }, "not KEY=VALUE"},
		{"env reserved", func(s *Spec) { s.Env = []string{"HOME=/root"} }, "set by the runner"},
		{"env duplicate", func(s *Spec) { s.Env = []string{"A=1", "A=2"} }, "twice"},
		{"env github token", func(s *Spec) { s.Env = []string{"GH=ghs_" + strings.Repeat("a", 36)} }, "credential"},
		{"env openai key", func(s *Spec) { s.Env = []string{"OPENAI_API_KEY=sk-proj-" + strings.Repeat("Z", 40)} }, "credential"},
		{"env nul", func(s *Spec) { s.Env = []string{"A=x\x00y"} }, "NUL"},
		{"cmd nul", func(s *Spec) { s.Cmd = []string{"a\x00"} }, "NUL"},
		{"relative CA file", func(s *Spec) { s.CAFile = "ca.pem" }, "not absolute"},
		{"file outside tmp", func(s *Spec) { s.Files = map[string]string{"/etc/passwd": "/x/y"} }, "under /tmp"},
		{"file climbing out", func(s *Spec) { s.Files = map[string]string{"/tmp/../etc/x": "/x/y"} }, "under /tmp"},
		{"canary reserved", func(s *Spec) { s.CanaryEnv = []string{"HOME=/x"} }, "free key"},
		{"canary twice", func(s *Spec) { s.Env = []string{"A=1"}; s.CanaryEnv = []string{"A=2"} }, "also in env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec()
			tt.mut(&s)
			_, _, err := Convert(s)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Convert error = %v, want containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), strings.Repeat("a", 36)) || strings.Contains(err.Error(), strings.Repeat("Z", 40)) {
				t.Fatalf("error repeats the secret: %v", err)
			}
		})
	}
}

func TestConvertCAAndCanaries(t *testing.T) {
	s := baseSpec()
	s.Env = []string{"SSL_CERT_FILE=/elsewhere.pem"}
	s.CAFile = "/run/agentgate/sock/ca-bundle.pem"
	s.CanaryEnv = []string{"AWS_ACCESS_KEY_ID=AKIA" + strings.Repeat("Q", 16)}
	s.Files = map[string]string{"/tmp/.npmrc": "/run/agentgate/sock/npmrc"}
	cfg, hc, err := Convert(s)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := env[k]; dup {
			t.Errorf("%s set twice", k)
		}
		env[k] = v
	}
	for _, k := range CAEnv {
		if env[k] != CAPath {
			t.Errorf("%s = %q, want %s", k, env[k], CAPath)
		}
	}
	if env["AWS_ACCESS_KEY_ID"] == "" {
		t.Error("canary env missing")
	}
	want := map[string]bool{CAPath: false, "/tmp/.npmrc": false}
	for _, m := range hc.Mounts {
		if _, ok := want[m.Target]; ok {
			if !m.ReadOnly || m.Type != mount.TypeBind {
				t.Errorf("mount %s: %+v, want a read-only bind", m.Target, m)
			}
			want[m.Target] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no mount at %s", k)
		}
	}
}
