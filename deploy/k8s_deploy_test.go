package deploy_test

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// deploymentEnv is the environment of d's container: its config maps,
// then its own values (values from secrets and fields are left out).
func deploymentEnv(m *manifests, d *appsv1.Deployment) map[string]string {
	env := map[string]string{}
	c := d.Spec.Template.Spec.Containers[0]
	for _, from := range c.EnvFrom {
		for _, cm := range m.configMaps {
			if from.ConfigMapRef != nil && cm.Name == from.ConfigMapRef.Name {
				for k, v := range cm.Data {
					env[k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}

// TestKubernetesDeploys: each Deployment's grace period outlasts its
// preStop hook plus its drain (for workers, the longest job and its
// clean-up); intake keeps serving until the ingress has seen it go (a
// preStop sleep and a shutdown delay at least the readiness probe's
// failure time); the worker mounts the model API key its agent needs and
// redelivers failed deliveries.
func TestKubernetesDeploys(t *testing.T) {
	m := loadManifests(t)
	deps := map[string]*appsv1.Deployment{}
	for _, d := range m.deployments {
		deps[d.Name] = d
	}
	for _, ing := range m.ingresses {
		if got := ing.Annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"]; !strings.Contains(got, "http_503") || !strings.Contains(got, "non_idempotent") {
			t.Errorf("Ingress %s: proxy-next-upstream %q: a delivery a stopping replica refuses (503) must go to another", ing.Name, got)
		}
	}
	for _, name := range []string{"agentgate-intake", "agentgate-worker"} {
		d := deps[name]
		if d == nil {
			t.Fatalf("no Deployment %s", name)
		}
		ps := d.Spec.Template.Spec
		c := ps.Containers[0]
		cfg := serviceConfig(t, c.Args, deploymentEnv(m, d))
		var preStop time.Duration
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
			switch h := c.Lifecycle.PreStop; {
			case h.Sleep != nil:
				preStop = time.Duration(h.Sleep.Seconds) * time.Second
			default:
				t.Errorf("%s: preStop other than sleep: the image has no shell", name)
			}
		}
		if ps.TerminationGracePeriodSeconds == nil {
			t.Errorf("%s: no terminationGracePeriodSeconds (the default 30s SIGKILLs the drain)", name)
			continue
		}
		grace := time.Duration(*ps.TerminationGracePeriodSeconds) * time.Second
		if need := preStop + cfg.ShutdownGrace(); grace < need {
			t.Errorf("%s: terminationGracePeriodSeconds %s is shorter than preStop %s + drain and clean-up %s", name, grace, preStop, cfg.ShutdownGrace())
		}
		if name == "agentgate-intake" {
			rp := c.ReadinessProbe
			if rp == nil {
				t.Fatalf("%s: no readiness probe", name)
			}
			seen := time.Duration(max(rp.PeriodSeconds, 1)*max(rp.FailureThreshold, 1)) * time.Second
			if preStop == 0 {
				t.Errorf("%s: no preStop sleep: the pod stops serving before the ingress controller drops it", name)
			}
			if preStop+cfg.Deploy.ShutdownDelay < seen {
				t.Errorf("%s: preStop %s + shutdown-delay %s is shorter than the readiness probe needs to fail (%s)", name, preStop, cfg.Deploy.ShutdownDelay, seen)
			}
		}
		if name == "agentgate-worker" {
			need := cfg.NeededLLMKey()
			env := "AGENTGATE_" + strings.ToUpper(strings.ReplaceAll(need, "-", "_")) + "_FILE"
			if need == "" || deploymentEnv(m, d)[env] == "" {
				t.Errorf("%s: agent %q needs %q: %s is not set (every run would fail)", name, cfg.AgentImage, need, env)
			}
			if cfg.Deploy.RedeliverInterval <= 0 {
				t.Errorf("%s: failed deliveries are never redelivered", name)
			}
		}
	}
}
