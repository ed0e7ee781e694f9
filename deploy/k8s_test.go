package deploy_test

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/webhook"
)

// manifests is every object under k8s/, by kind.
type manifests struct {
	deployments   []*appsv1.Deployment
	services      []*corev1.Service
	ingresses     []*networkingv1.Ingress
	secrets       []*corev1.Secret
	configMaps    []*corev1.ConfigMap
	accounts      []*corev1.ServiceAccount
	namespaces    []*corev1.Namespace
	pdbs          []*policyv1.PodDisruptionBudget
	netpols       []*networkingv1.NetworkPolicy
	runtimeClass  []*nodev1.RuntimeClass
	objectsByFile map[string]int
}

// decodeStrict decodes one YAML document into the k8s.io/api type of its
// kind; an unknown field, a field of the wrong type or an unknown kind is
// an error.
func decodeStrict(doc []byte, m *manifests) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return fmt.Errorf("type meta: %w", err)
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		return decodeInto(doc, &m.deployments)
	case "v1 Service":
		return decodeInto(doc, &m.services)
	case "networking.k8s.io/v1 Ingress":
		return decodeInto(doc, &m.ingresses)
	case "v1 Secret":
		return decodeInto(doc, &m.secrets)
	case "v1 ConfigMap":
		return decodeInto(doc, &m.configMaps)
	case "v1 ServiceAccount":
		return decodeInto(doc, &m.accounts)
	case "v1 Namespace":
		return decodeInto(doc, &m.namespaces)
	case "policy/v1 PodDisruptionBudget":
		return decodeInto(doc, &m.pdbs)
	case "networking.k8s.io/v1 NetworkPolicy":
		return decodeInto(doc, &m.netpols)
	case "node.k8s.io/v1 RuntimeClass":
		return decodeInto(doc, &m.runtimeClass)
	default:
		return fmt.Errorf("unexpected kind %q %q", tm.APIVersion, tm.Kind)
	}
}

// decodeInto decodes doc strictly as a *T and appends it to list.
func decodeInto[T any](doc []byte, list *[]*T) error {
	o := new(T)
	if err := yaml.UnmarshalStrict(doc, o); err != nil {
		return err
	}
	*list = append(*list, o)
	return nil
}

// splitDocs splits a multi-document YAML file, dropping empty documents.
func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), b...), []byte("\n---")) {
		empty := true
		for _, line := range strings.Split(string(d), "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				empty = false
			}
		}
		if !empty {
			out = append(out, d)
		}
	}
	return out
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{objectsByFile: map[string]int{}}
	var files []string
	err := filepath.WalkDir("k8s", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no manifests under k8s/")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range splitDocs(b) {
			if err := decodeStrict(doc, m); err != nil {
				t.Fatalf("%s document %d: %v", f, i+1, err)
			}
			m.objectsByFile[f]++
		}
	}
	return m
}

// TestDecodeStrictRejects keeps the decoder honest: a misspelt or
// misplaced field fails instead of being dropped.
func TestDecodeStrictRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {a: b}}\n",
		"misplaced field": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{name: a, image: b, readinessProbe: {path: /readyz}}]}}}\n",
		"wrong type":      "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec: {minAvailable: [1]}\n",
		"unknown kind":    "apiVersion: v1\nkind: Servic\nmetadata: {name: x}\n",
	} {
		if err := decodeStrict([]byte(doc), &manifests{}); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if err := decodeStrict([]byte("apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selector: {a: b}}\n"), &manifests{}); err != nil {
		t.Errorf("valid service: %v", err)
	}
}

// settingEnvs is every AGENTGATE_* variable agentgate's configuration reads.
func settingEnvs(t *testing.T) map[string]bool {
	t.Helper()
	_, fs, err := app.LoadConfig("serve", nil, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	envs := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		envs["AGENTGATE_"+strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))] = true
	})
	if !envs["AGENTGATE_WEBHOOK_SECRET_FILE"] || !envs["AGENTGATE_DATABASE_URL"] {
		t.Fatalf("settings lost their names: %v", envs)
	}
	return envs
}

// checkEnvName fails on an environment variable agentgate does not read.
func checkEnvName(t *testing.T, where, name string, envs map[string]bool) {
	t.Helper()
	switch {
	case envs[name]:
	case strings.HasPrefix(name, "OTEL_"): // the OpenTelemetry SDK's own
	case strings.HasPrefix(name, "AGENTGATE_"):
		t.Errorf("%s: %s is not an agentgate setting", where, name)
	default:
		t.Errorf("%s: %s: agentgate reads no such variable", where, name)
	}
}

// probePathsServed asks the real intake handler for each path and returns
// those it serves.
func probePathsServed(t *testing.T, paths []string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "probe.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	srv, err := webhook.New(webhook.Config{Secret: []byte("probe-secret")}, db.SQL, noInserter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	ok := map[string]bool{}
	for _, p := range paths {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		ok[p] = rec.Code == http.StatusOK
	}
	return ok
}

type noInserter struct{}

func (noInserter) InsertTx(context.Context, *sql.Tx, river.JobArgs, *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return nil, io.ErrUnexpectedEOF
}

func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	envs := settingEnvs(t)

	// Intake and everything else in agentgate (admitted only under the
	// restricted pod security level); the privileged worker alone in
	// agentgate-worker. Objects are found by namespace and name.
	const ns, workerNS = "agentgate", "agentgate-worker"
	secrets := map[string]*corev1.Secret{}
	for _, s := range m.secrets {
		secrets[s.Namespace+"/"+s.Name] = s
	}
	configMaps := map[string]*corev1.ConfigMap{}
	for _, c := range m.configMaps {
		configMaps[c.Namespace+"/"+c.Name] = c
	}
	accounts := map[string]*corev1.ServiceAccount{}
	for _, a := range m.accounts {
		accounts[a.Namespace+"/"+a.Name] = a
		if a.AutomountServiceAccountToken == nil || *a.AutomountServiceAccountToken {
			t.Errorf("service account %s mounts an API token; agentgate never talks to Kubernetes", a.Name)
		}
	}
	checkNS := func(kind string, meta metav1.ObjectMeta) {
		if meta.Namespace != ns && meta.Namespace != workerNS {
			t.Errorf("%s %s: namespace %q, want %q or %q", kind, meta.Name, meta.Namespace, ns, workerNS)
		}
	}
	enforce := map[string]string{}
	for _, n := range m.namespaces {
		enforce[n.Name] = n.Labels["pod-security.kubernetes.io/enforce"]
	}
	if !maps.Equal(enforce, map[string]string{ns: "restricted", workerNS: "privileged"}) {
		t.Errorf("namespaces and their enforced pod security levels %v: want %s restricted, %s privileged (the worker's alone)", enforce, ns, workerNS)
	}

	deps := map[string]*appsv1.Deployment{}
	for _, d := range m.deployments {
		checkNS("Deployment", d.ObjectMeta)
		deps[d.Name] = d
	}
	intake, worker := deps["agentgate-intake"], deps["agentgate-worker"]
	if intake == nil || worker == nil {
		t.Fatalf("want Deployments agentgate-intake and agentgate-worker, have %v", keys(deps))
	}
	if intake.Namespace != ns || worker.Namespace != workerNS {
		t.Errorf("intake in %q, worker in %q: want %s and %s", intake.Namespace, worker.Namespace, ns, workerNS)
	}
	for _, a := range m.accounts {
		if a.Name == "agentgate-worker" && a.Namespace != workerNS {
			t.Errorf("service account agentgate-worker in %q, want %s", a.Namespace, workerNS)
		}
	}

	// Settings that are not file paths must parse as agentgate's
	// configuration does (a size, a duration, an integer).
	defaults := app.DefaultConfig()
	for _, d := range m.deployments {
		where := "Deployment " + d.Name
		ps := d.Spec.Template.Spec
		if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector does not match its pod template (%v)", where, err)
		}
		if ps.ServiceAccountName == "" || accounts[d.Namespace+"/"+ps.ServiceAccountName] == nil {
			t.Errorf("%s: service account %q is not defined", where, ps.ServiceAccountName)
		}
		if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
			t.Errorf("%s: mounts a service account token", where)
		}
		if len(ps.Containers) != 1 {
			t.Fatalf("%s: want one container", where)
		}
		c := ps.Containers[0]
		if c.Image != "agentgate:dev" {
			t.Errorf("%s: image %q, want agentgate:dev (deploy/Dockerfile)", where, c.Image)
		}
		if c.ImagePullPolicy == corev1.PullAlways {
			t.Errorf("%s: imagePullPolicy Always; the image is built locally", where)
		}
		if len(c.Command) > 0 || len(c.Args) < 3 || c.Args[0] != "serve" || c.Args[1] != "--role" {
			t.Errorf("%s: args %q, want serve --role ROLE on the image's entrypoint", where, c.Args)
		}

		// Environment: every name a real setting; secrets and config
		// maps referenced exist with the keys used.
		env := map[string]string{}
		for _, from := range c.EnvFrom {
			switch {
			case from.ConfigMapRef != nil:
				cm := configMaps[d.Namespace+"/"+from.ConfigMapRef.Name]
				if cm == nil {
					t.Errorf("%s: envFrom config map %q is not defined", where, from.ConfigMapRef.Name)
					continue
				}
				for k, v := range cm.Data {
					env[k] = v
				}
			default:
				t.Errorf("%s: envFrom other than a config map", where)
			}
		}
		for _, e := range c.Env {
			env[e.Name] = e.Value
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				s := secrets[d.Namespace+"/"+r.Name]
				if s == nil {
					t.Errorf("%s: env %s: secret %q is not defined", where, e.Name, r.Name)
				} else if _, ok := s.StringData[r.Key]; !ok {
					t.Errorf("%s: env %s: secret %s has no key %q", where, e.Name, r.Name, r.Key)
				}
			}
		}
		for name := range env {
			checkEnvName(t, where, name, envs)
		}
		for _, must := range []string{"AGENTGATE_DATABASE_URL", "AGENTGATE_WEBHOOK_SECRET_FILE", "AGENTGATE_APP_ID", "AGENTGATE_DATA_DIR", "AGENTGATE_WORKER_ID"} {
			if _, ok := env[must]; !ok {
				t.Errorf("%s: %s is not set", where, must)
			}
		}
		// The app key and the audit key are the worker's: intake never
		// uses them, so it neither names nor mounts them.
		workerOnly := []string{"AGENTGATE_PRIVATE_KEY_FILE", "AGENTGATE_AUDIT_KEY_FILE"}
		for _, k := range workerOnly {
			if _, ok := env[k]; ok != (d == worker) {
				t.Errorf("%s: %s set = %v, want %v (worker only)", where, k, ok, d == worker)
			}
		}
		if d == intake {
			for _, v := range ps.Volumes {
				if v.Secret == nil {
					continue
				}
				if v.Secret.SecretName == "agentgate-audit-key" {
					t.Errorf("%s: mounts the audit key", where)
				}
				if v.Secret.SecretName == "agentgate-github" {
					if len(v.Secret.Items) == 0 {
						t.Errorf("%s: mounts all of agentgate-github, the app's private key included", where)
					}
					for _, it := range v.Secret.Items {
						if it.Key != "webhook-secret" {
							t.Errorf("%s: mounts %s of agentgate-github; intake needs the webhook secret only", where, it.Key)
						}
					}
				}
			}
		}
		plain := map[string]string{}
		for k, v := range env {
			if v != "" && !strings.HasSuffix(k, "_FILE") && strings.HasPrefix(k, "AGENTGATE_") {
				plain[k] = v
			}
		}
		if _, _, err := app.LoadConfig("serve", nil, func(k string) string { return plain[k] }, nil); err != nil {
			t.Errorf("%s: agentgate rejects its settings: %v", where, err)
		}

		// Every *_FILE setting names a file in a mounted secret that has
		// that key.
		mounts := map[string]string{} // mount path → volume
		for _, vm := range c.VolumeMounts {
			mounts[vm.MountPath] = vm.Name
		}
		volumes := map[string]corev1.Volume{}
		for _, v := range ps.Volumes {
			volumes[v.Name] = v
		}
		for _, vm := range c.VolumeMounts {
			if _, ok := volumes[vm.Name]; !ok {
				t.Errorf("%s: mount %s: volume %q is not defined", where, vm.MountPath, vm.Name)
			}
		}
		for k, v := range env {
			if !strings.HasSuffix(k, "_FILE") {
				continue
			}
			dir, file := filepath.Split(v)
			vol, ok := volumes[mounts[strings.TrimSuffix(dir, "/")]]
			if !ok || vol.Secret == nil {
				t.Errorf("%s: %s=%s is not in a mounted secret", where, k, v)
				continue
			}
			if items := vol.Secret.Items; len(items) > 0 && !slices.ContainsFunc(items, func(it corev1.KeyToPath) bool { return it.Path == file }) {
				t.Errorf("%s: %s=%s: volume %s does not project %q", where, k, v, vol.Name, file)
			}
			s := secrets[d.Namespace+"/"+vol.Secret.SecretName]
			if s == nil {
				t.Errorf("%s: volume %s: secret %q is not defined", where, vol.Name, vol.Secret.SecretName)
			} else if _, ok := s.StringData[file]; !ok {
				t.Errorf("%s: %s=%s: secret %s has no key %q", where, k, v, s.Name, file)
			}
		}
		for _, v := range ps.Volumes {
			if v.Secret != nil && secrets[d.Namespace+"/"+v.Secret.SecretName] == nil {
				t.Errorf("%s: volume %s: secret %q is not defined", where, v.Name, v.Secret.SecretName)
			}
		}

		// Probes aim at named ports of the container.
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
		}
		for _, pr := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe, c.StartupProbe} {
			if pr == nil || pr.HTTPGet == nil {
				continue
			}
			if _, ok := ports[pr.HTTPGet.Port.StrVal]; !ok {
				t.Errorf("%s: probe %s on port %v, which the container does not name", where, pr.HTTPGet.Path, pr.HTTPGet.Port.String())
			}
		}
		if listen := env["AGENTGATE_ADMIN_LISTEN"]; ports["admin"] != 0 && listen != fmt.Sprintf(":%d", ports["admin"]) {
			t.Errorf("%s: admin port %d but AGENTGATE_ADMIN_LISTEN=%q", where, ports["admin"], listen)
		}
		if listen := env["AGENTGATE_METRICS_LISTEN"]; ports["metrics"] != 0 && listen != fmt.Sprintf(":%d", ports["metrics"]) {
			t.Errorf("%s: metrics port %d but AGENTGATE_METRICS_LISTEN=%q", where, ports["metrics"], listen)
		}
		if ports["http"] != 0 && env["AGENTGATE_LISTEN"] != fmt.Sprintf(":%d", ports["http"]) {
			t.Errorf("%s: http port %d but AGENTGATE_LISTEN=%q", where, ports["http"], env["AGENTGATE_LISTEN"])
		}
	}

	// Intake: the webhook's own probes, on paths the intake handler serves;
	// hardened to the restricted profile.
	ic := intake.Spec.Template.Spec.Containers[0]
	if got := ic.Args; !slices.Equal(got, []string{"serve", "--role", "intake"}) {
		t.Errorf("intake args %q", got)
	}
	if ic.ReadinessProbe == nil || ic.ReadinessProbe.HTTPGet == nil || ic.ReadinessProbe.HTTPGet.Path != "/readyz" || ic.ReadinessProbe.HTTPGet.Port.StrVal != "http" {
		t.Errorf("intake readiness probe must be GET /readyz on http: %+v", ic.ReadinessProbe)
	}
	if ic.LivenessProbe == nil || ic.LivenessProbe.HTTPGet == nil || ic.LivenessProbe.HTTPGet.Path != "/healthz" || ic.LivenessProbe.HTTPGet.Port.StrVal != "http" {
		t.Errorf("intake liveness probe must be GET /healthz on http: %+v", ic.LivenessProbe)
	}
	served := probePathsServed(t, []string{"/readyz", "/healthz", "/nonexistent"})
	if !served["/readyz"] || !served["/healthz"] || served["/nonexistent"] {
		t.Errorf("intake handler serves %v; the probes need /readyz and /healthz (and the check needs a 404 for others)", served)
	}
	isc, ipsc := ic.SecurityContext, intake.Spec.Template.Spec.SecurityContext
	switch {
	case isc == nil || ipsc == nil:
		t.Error("intake: no security context")
	case isc.AllowPrivilegeEscalation == nil || *isc.AllowPrivilegeEscalation,
		isc.ReadOnlyRootFilesystem == nil || !*isc.ReadOnlyRootFilesystem,
		isc.Privileged != nil && *isc.Privileged,
		isc.Capabilities == nil || !slices.Equal(isc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(isc.Capabilities.Add) > 0,
		ipsc.RunAsNonRoot == nil || !*ipsc.RunAsNonRoot,
		ipsc.RunAsUser == nil || *ipsc.RunAsUser == 0,
		ipsc.SeccompProfile == nil || ipsc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("intake is not hardened: pod %+v container %+v", ipsc, isc)
	}
	for _, v := range intake.Spec.Template.Spec.Volumes {
		if v.HostPath != nil {
			t.Errorf("intake mounts host path %s", v.HostPath.Path)
		}
	}

	// Worker: the node's Docker engine and the run directories, at the same
	// path as on the node, propagated; time to drain a full run.
	wps := worker.Spec.Template.Spec
	wc := wps.Containers[0]
	if got := wc.Args; !slices.Equal(got, []string{"serve", "--role", "worker"}) {
		t.Errorf("worker args %q", got)
	}
	// The worker's probes: its own /healthz and /readyz on the metrics
	// listener (never /metrics, which says nothing of its health).
	if wc.LivenessProbe == nil || wc.LivenessProbe.HTTPGet == nil || wc.LivenessProbe.HTTPGet.Path != "/healthz" || wc.LivenessProbe.HTTPGet.Port.StrVal != "metrics" {
		t.Errorf("worker liveness probe must be GET /healthz on metrics: %+v", wc.LivenessProbe)
	}
	if wc.ReadinessProbe == nil || wc.ReadinessProbe.HTTPGet == nil || wc.ReadinessProbe.HTTPGet.Path != "/readyz" || wc.ReadinessProbe.HTTPGet.Port.StrVal != "metrics" {
		t.Errorf("worker readiness probe must be GET /readyz on metrics: %+v", wc.ReadinessProbe)
	}
	hostPaths := map[string]string{}
	for _, v := range wps.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	if !maps.Equal(hostPaths, map[string]string{"docker-sock": "/var/run/docker.sock", "data": "/var/lib/agentgate"}) {
		t.Errorf("worker host paths %v: want only the Docker socket and the data directory", hostPaths)
	}
	var dataEnv string
	for _, e := range wc.Env {
		if e.Name == "AGENTGATE_DATA_DIR" {
			dataEnv = e.Value
		}
	}
	for _, vm := range wc.VolumeMounts {
		if vm.Name == "data" {
			if vm.MountPath != hostPaths["data"] || dataEnv != vm.MountPath {
				t.Errorf("worker data dir: host %s, mount %s, setting %s: all three must be equal", hostPaths["data"], vm.MountPath, dataEnv)
			}
			if vm.MountPropagation == nil || *vm.MountPropagation != corev1.MountPropagationBidirectional {
				t.Error("worker data mount must propagate (Bidirectional): the engine bind-mounts the run's tmpfs")
			}
		}
	}
	if g := wps.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second < defaults.Limits.Timeout+5*time.Minute {
		t.Errorf("worker termination grace %v is shorter than the run timeout %v plus the drain margin", g, defaults.Limits.Timeout)
	}
	if wps.Affinity == nil || wps.Affinity.PodAntiAffinity == nil || len(wps.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Error("worker: one per node (its id is the node's name) needs a required pod anti-affinity")
	}
	for _, e := range wc.Env {
		if e.Name == "AGENTGATE_WORKER_ID" && (e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName") {
			t.Error("worker id must be the node's name")
		}
	}

	// Services select pods and aim at named container ports; the ingress
	// exposes only the webhook.
	svcs := map[string]*corev1.Service{}
	for _, s := range m.services {
		checkNS("Service", s.ObjectMeta)
		svcs[s.Name] = s
		d := selected(m.deployments, s.Spec.Selector)
		if d == nil {
			t.Errorf("Service %s selects no Deployment", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if !containerPort(d, p.TargetPort) {
				t.Errorf("Service %s port %s: target %s is not a port of %s", s.Name, p.Name, p.TargetPort.String(), d.Name)
			}
		}
	}
	if len(m.ingresses) != 1 {
		t.Fatalf("want one Ingress, have %d", len(m.ingresses))
	}
	for _, ing := range m.ingresses {
		checkNS("Ingress", ing.ObjectMeta)
		for _, r := range ing.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				if p.Path != "/webhook" || p.PathType == nil || *p.PathType != networkingv1.PathTypeExact {
					t.Errorf("Ingress %s exposes %q (%v); only /webhook (Exact) faces the internet", ing.Name, p.Path, p.PathType)
				}
				svc := svcs[p.Backend.Service.Name]
				if svc == nil {
					t.Errorf("Ingress %s: service %s is not defined", ing.Name, p.Backend.Service.Name)
					continue
				}
				if d := selected(m.deployments, svc.Spec.Selector); d != intake {
					t.Errorf("Ingress %s reaches %v, not intake", ing.Name, d)
				}
				found := false
				for _, sp := range svc.Spec.Ports {
					found = found || (sp.Name == p.Backend.Service.Port.Name && sp.Name != "") || (sp.Port == p.Backend.Service.Port.Number && sp.Port != 0)
				}
				if !found {
					t.Errorf("Ingress %s: service %s has no port %+v", ing.Name, svc.Name, p.Backend.Service.Port)
				}
			}
		}
	}

	// Disruption budgets: one per Deployment, selecting it.
	covered := map[string]bool{}
	for _, p := range m.pdbs {
		checkNS("PodDisruptionBudget", p.ObjectMeta)
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range m.deployments {
			if d.Namespace == p.Namespace && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				covered[d.Name] = true
			}
		}
	}
	for name := range deps {
		if !covered[name] {
			t.Errorf("Deployment %s has no PodDisruptionBudget", name)
		}
	}
	for _, s := range m.secrets {
		checkNS("Secret", s.ObjectMeta)
		// Intake's namespace holds no key it never uses.
		for _, k := range []string{"private-key.pem", "audit-key.pem"} {
			if _, ok := s.StringData[k]; ok && s.Namespace == ns {
				t.Errorf("Secret %s/%s holds %s; only the worker's namespace may", s.Namespace, s.Name, k)
			}
		}
		if len(s.Data) > 0 {
			t.Errorf("Secret %s: placeholders belong in stringData, never real base64 data", s.Name)
		}
	}
	if len(m.runtimeClass) != 1 || m.runtimeClass[0].Handler != "runsc" {
		t.Error("want the optional gVisor RuntimeClass with handler runsc")
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// selected is the one Deployment whose pods sel selects.
func selected(deps []*appsv1.Deployment, sel map[string]string) *appsv1.Deployment {
	var hit *appsv1.Deployment
	for _, d := range deps {
		if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(d.Spec.Template.Labels)) {
			if hit != nil {
				return nil
			}
			hit = d
		}
	}
	return hit
}

// containerPort reports whether p names or numbers a port of d's container.
func containerPort(d *appsv1.Deployment, p intstr.IntOrString) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, cp := range c.Ports {
			if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
				return true
			}
		}
	}
	return false
}
