package deploy_test

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of `docker-compose config` output the tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		User        string            `yaml:"user"`
		ReadOnly    bool              `yaml:"read_only"`
		CapDrop     []string          `yaml:"cap_drop"`
		CapAdd      []string          `yaml:"cap_add"`
		SecurityOpt []string          `yaml:"security_opt"`
		Environment map[string]string `yaml:"environment"`
		Ports       []any             `yaml:"ports"`
		Secrets     []struct {
			Source string `yaml:"source"`
		} `yaml:"secrets"`
		Volumes []struct {
			Type   string `yaml:"type"`
			Source string `yaml:"source"`
			Target string `yaml:"target"`
			Bind   struct {
				Propagation string `yaml:"propagation"`
			} `yaml:"bind"`
		} `yaml:"volumes"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

// composeBin finds Debian's docker-compose, or skips (fails under CI=true).
func composeBin(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("docker-compose is required under CI=true (apt-get install docker-compose): %v", err)
		}
		t.Skipf("docker-compose not installed (apt-get install docker-compose): %v", err)
	}
	return p
}

// composeConfig runs `docker-compose config` on docker-compose.yml with env.
func composeConfig(t *testing.T, env ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(composeBin(t), "-f", "docker-compose.yml", "config")
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "AGENTGATE_") || strings.HasPrefix(kv, "POSTGRES_") || strings.HasPrefix(kv, "COMPOSE_")
	}), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	return out, nil
}

func TestComposeConfig(t *testing.T) {
	out, err := composeConfig(t, "POSTGRES_PASSWORD=pw-for-test", "AGENTGATE_APP_ID=4242")
	if err != nil {
		t.Fatalf("docker-compose config: %v: %s", err, err.(*exec.ExitError).Stderr)
	}
	var c composeFile
	if err := yaml.Unmarshal(out, &c); err != nil {
		t.Fatalf("compose output: %v", err)
	}
	envs := settingEnvs(t)
	for _, name := range []string{"intake", "worker", "postgres", "otel-collector"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	for _, name := range []string{"intake", "worker"} {
		s := c.Services[name]
		where := "service " + name
		if s.Image != "agentgate:dev" {
			t.Errorf("%s: image %q, want agentgate:dev", where, s.Image)
		}
		if want := []string{"serve", "--role", name}; !slices.Equal(s.Command, want) {
			t.Errorf("%s: command %q, want %q", where, s.Command, want)
		}
		for k := range s.Environment {
			checkEnvName(t, where, k, envs)
		}
		if s.Environment["AGENTGATE_APP_ID"] != "4242" {
			t.Errorf("%s: app id %q: the variable did not reach it", where, s.Environment["AGENTGATE_APP_ID"])
		}
		db, err := url.Parse(s.Environment["AGENTGATE_DATABASE_URL"])
		if err != nil || db.Scheme != "postgres" || db.Hostname() != "postgres" {
			t.Errorf("%s: database %q is not the compose Postgres", where, s.Environment["AGENTGATE_DATABASE_URL"])
		}
		if p, _ := db.User.Password(); p != "pw-for-test" {
			t.Errorf("%s: database password not from POSTGRES_PASSWORD", where)
		}
		if ep := s.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]; ep != "http://otel-collector:4318" {
			t.Errorf("%s: OTLP endpoint %q, want the collector's OTLP/HTTP port", where, ep)
		}
		// Every *_FILE setting is a secret mounted into this service.
		mounted := map[string]bool{}
		for _, sec := range s.Secrets {
			mounted[sec.Source] = true
			if _, ok := c.Secrets[sec.Source]; !ok {
				t.Errorf("%s: secret %s is not defined", where, sec.Source)
			}
		}
		for k, v := range s.Environment {
			if !strings.HasSuffix(k, "_FILE") {
				continue
			}
			name, ok := strings.CutPrefix(v, "/run/secrets/")
			if !ok || !mounted[name] {
				t.Errorf("%s: %s=%s is not a mounted secret", where, k, v)
			}
		}
		if dep := s.DependsOn["postgres"]; dep.Condition != "service_healthy" {
			t.Errorf("%s: starts before Postgres is healthy", where)
		}
		if !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") || !s.ReadOnly {
			t.Errorf("%s: not hardened (cap_drop %v, security_opt %v, read_only %v)", where, s.CapDrop, s.SecurityOpt, s.ReadOnly)
		}
	}

	intake, worker := c.Services["intake"], c.Services["worker"]
	if intake.User == "" || strings.HasPrefix(intake.User, "0") || len(intake.CapAdd) > 0 || len(intake.Volumes) > 0 {
		t.Errorf("intake must run unprivileged with no host mounts: user %q cap_add %v volumes %+v", intake.User, intake.CapAdd, intake.Volumes)
	}
	if len(intake.Ports) != 0 || len(worker.Ports) != 0 {
		t.Errorf("only the proxy publishes a port (intake is scaled): intake %v, worker %v", intake.Ports, worker.Ports)
	}
	var sock, data bool
	for _, v := range worker.Volumes {
		switch {
		case v.Source == "/var/run/docker.sock" && v.Target == "/var/run/docker.sock":
			sock = true
		case v.Target == worker.Environment["AGENTGATE_DATA_DIR"] && v.Source == v.Target && v.Bind.Propagation == "rshared":
			data = true
		default:
			t.Errorf("worker: unexpected mount %+v", v)
		}
	}
	if !sock || !data {
		t.Errorf("worker needs the Docker socket (%v) and its data dir at the host's path, rshared (%v)", sock, data)
	}
	if !slices.Contains(worker.CapAdd, "SYS_ADMIN") {
		t.Error("worker: bounded work trees need CAP_SYS_ADMIN")
	}

	for name, s := range c.Secrets {
		if filepath.Dir(s.File) != filepath.Join(mustAbs(t, "."), "secrets") {
			t.Errorf("secret %s: file %s is outside deploy/secrets (git-ignored)", name, s.File)
		}
	}
	ignored, err := os.ReadFile("secrets/.gitignore")
	if err != nil || !strings.Contains(string(ignored), "*") {
		t.Errorf("deploy/secrets must ignore everything: %v", err)
	}
}

// TestComposeRequiresSecrets: without a database password or an app id,
// compose refuses to start rather than run with an empty one.
func TestComposeRequiresSecrets(t *testing.T) {
	for _, env := range [][]string{{"AGENTGATE_APP_ID=1"}, {"POSTGRES_PASSWORD=x"}} {
		if _, err := composeConfig(t, env...); err == nil {
			t.Errorf("docker-compose config with only %v succeeded", env)
		} else if msg := string(err.(*exec.ExitError).Stderr); !strings.Contains(msg, "set ") {
			t.Errorf("with only %v: error does not say what to set: %s", env, msg)
		}
	}
}

// TestCollectorConfig: each pipeline uses only components the file
// defines, and the collector listens where agentgate exports.
func TestCollectorConfig(t *testing.T) {
	b, err := os.ReadFile("otel-collector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Receivers  map[string]any `yaml:"receivers"`
		Processors map[string]any `yaml:"processors"`
		Exporters  map[string]any `yaml:"exporters"`
		Service    struct {
			Pipelines map[string]struct {
				Receivers, Processors, Exporters []string
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"traces", "metrics", "logs"} {
		p, ok := cfg.Service.Pipelines[want]
		if !ok {
			t.Errorf("no %s pipeline", want)
		}
		if want != "metrics" && !slices.Contains(p.Receivers, "otlp") {
			t.Errorf("%s pipeline does not receive OTLP, which agentgate exports", want)
		}
	}
	for name, p := range cfg.Service.Pipelines {
		if len(p.Receivers) == 0 || len(p.Exporters) == 0 {
			t.Errorf("pipeline %s: needs receivers and exporters", name)
		}
		for _, ref := range []struct {
			kind string
			ids  []string
			defs map[string]any
		}{{"receiver", p.Receivers, cfg.Receivers}, {"processor", p.Processors, cfg.Processors}, {"exporter", p.Exporters, cfg.Exporters}} {
			for _, id := range ref.ids {
				if _, ok := ref.defs[id]; !ok {
					t.Errorf("pipeline %s: %s %s is not defined", name, ref.kind, id)
				}
			}
		}
	}
	otlp, _ := cfg.Receivers["otlp"].(map[string]any)
	protocols, _ := otlp["protocols"].(map[string]any)
	httpProto, _ := protocols["http"].(map[string]any)
	if ep, _ := httpProto["endpoint"].(string); !strings.HasSuffix(ep, ":4318") {
		t.Errorf("OTLP/HTTP receiver on %q, agentgate exports to :4318", ep)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
