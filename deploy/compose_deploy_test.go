package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/agentgate/agentgate/app"
)

// composeDeploy is the part of `docker-compose config` output the deploy
// checks read.
type composeDeploy struct {
	Services map[string]struct {
		Image           string            `yaml:"image"`
		Command         []string          `yaml:"command"`
		Environment     map[string]string `yaml:"environment"`
		StopGracePeriod string            `yaml:"stop_grace_period"`
		Expose          []string          `yaml:"expose"`
		Ports           []struct {
			Published any    `yaml:"published"`
			Target    int    `yaml:"target"`
			Protocol  string `yaml:"protocol"`
		} `yaml:"ports"`
		Volumes []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"volumes"`
	} `yaml:"services"`
}

// serviceConfig is agentgate's configuration for a compose service's
// environment (files are not read).
func serviceConfig(t *testing.T, command []string, env map[string]string) app.Config {
	t.Helper()
	plain := map[string]string{}
	for k, v := range env {
		if !strings.HasSuffix(k, "_FILE") {
			plain[k] = v
		}
	}
	var args []string
	if len(command) > 0 && command[0] == "serve" {
		args = command[1:]
	}
	cfg, _, err := app.LoadConfig("serve", args, func(k string) string { return plain[k] }, nil)
	if err != nil {
		t.Fatalf("agentgate rejects the settings: %v", err)
	}
	return cfg
}

// TestComposeDeploys checks what the documented compose path needs to
// survive `up --scale intake=2` and a redeploy: no two containers want the
// same host port, only the proxy publishes one and it reaches intake's
// port; each agentgate service's stop_grace_period outlasts its drain (the
// longest job for the worker); intake keeps serving after its readiness
// fails; the worker gets the model API key its agent needs.
func TestComposeDeploys(t *testing.T) {
	out, err := composeConfig(t, "POSTGRES_PASSWORD=pw-for-test", "AGENTGATE_APP_ID=4242")
	if err != nil {
		t.Fatalf("docker-compose config: %v: %s", err, err.(*exec.ExitError).Stderr)
	}
	var c composeDeploy
	if err := yaml.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}

	// Ports: a fixed host port on a service run more than once fails the
	// second container ("port is already allocated"); two services on one
	// host port fail as well.
	scaled := map[string]bool{"intake": true}
	owner := map[string]string{}
	for name, s := range c.Services {
		for _, p := range s.Ports {
			host := fmt.Sprint(p.Published)
			if host == "" || host == "<nil>" || host == "0" {
				continue // an ephemeral host port
			}
			if scaled[name] && !strings.Contains(host, "-") {
				t.Errorf("service %s is scaled (--scale %s=2) but publishes the fixed host port %s", name, name, host)
			}
			key := host + "/" + p.Protocol
			if other, ok := owner[key]; ok {
				t.Errorf("services %s and %s both publish host port %s", other, name, host)
			}
			owner[key] = name
		}
	}
	intake, proxy, worker := c.Services["intake"], c.Services["proxy"], c.Services["worker"]
	if len(intake.Ports) != 0 || len(intake.Expose) == 0 {
		t.Errorf("intake: ports %v expose %v: want no host port, the listen port exposed to the proxy", intake.Ports, intake.Expose)
	}
	listenPort := strings.TrimPrefix(intake.Environment["AGENTGATE_LISTEN"], ":")
	if len(intake.Expose) > 0 && intake.Expose[0] != listenPort {
		t.Errorf("intake exposes %v but listens on %s", intake.Expose, listenPort)
	}
	if len(proxy.Ports) != 1 || fmt.Sprint(proxy.Ports[0].Published) != "8080" {
		t.Errorf("proxy: ports %+v, want the one published port 8080", proxy.Ports)
	}
	conf := proxyConf(t, proxy.Volumes)
	if m := regexp.MustCompile(`set \$intake http://intake:(\d+);\s*proxy_pass \$intake;`).FindStringSubmatch(conf); m == nil || m[1] != listenPort {
		t.Errorf("proxy.conf does not pass to intake:%s through a re-resolved name: %v", listenPort, m)
	}
	for _, must := range []string{"resolver 127.0.0.11", "proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent", "location = /webhook"} {
		if !strings.Contains(conf, must) {
			t.Errorf("proxy.conf lacks %q", must)
		}
	}
	if nginx, err := exec.LookPath("nginx"); err == nil {
		if out, err := exec.Command(nginx, "-t", "-q", "-c", mustAbs(t, "proxy.conf")).CombinedOutput(); err != nil {
			t.Errorf("nginx -t proxy.conf: %v\n%s", err, out)
		}
	}

	// Grace periods outlast the drain.
	for _, name := range []string{"intake", "worker"} {
		s := c.Services[name]
		cfg := serviceConfig(t, s.Command, s.Environment)
		grace, err := time.ParseDuration(s.StopGracePeriod)
		if err != nil {
			t.Errorf("%s: stop_grace_period %q: %v (the default 10s SIGKILLs the drain)", name, s.StopGracePeriod, err)
			continue
		}
		if need := cfg.ShutdownGrace(); grace < need {
			t.Errorf("%s: stop_grace_period %s is shorter than the drain needs (%s): the clean-up is SIGKILLed", name, grace, need)
		}
	}
	if d := serviceConfig(t, intake.Command, intake.Environment).Deploy.ShutdownDelay; d < 6*time.Second {
		t.Errorf("intake: shutdown-delay %s: the proxy re-resolves every 5s, a stopping replica must serve past that", d)
	}

	// The worker's agent gets its model API key.
	wcfg := serviceConfig(t, worker.Command, worker.Environment)
	need := wcfg.NeededLLMKey()
	if need == "" {
		t.Fatalf("worker agent %q: agentgate cannot tell which key it needs", wcfg.AgentImage)
	}
	env := "AGENTGATE_" + strings.ToUpper(strings.ReplaceAll(need, "-", "_")) + "_FILE"
	if worker.Environment[env] == "" {
		t.Errorf("worker runs %s, which needs %s: %s is not set", wcfg.AgentImage, need, env)
	}
	if wcfg.Deploy.RedeliverInterval <= 0 {
		t.Error("worker: failed deliveries are never redelivered")
	}
}

// proxyConf reads the proxy's configuration file, mounted from deploy/.
func proxyConf(t *testing.T, vols []struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}) string {
	t.Helper()
	for _, v := range vols {
		if v.Target == "/etc/nginx/nginx.conf" {
			b, err := os.ReadFile(v.Source)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatal("proxy: no nginx.conf mounted")
	return ""
}
