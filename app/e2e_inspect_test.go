package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/harness"
	"github.com/agentgate/agentgate/internal/imagebuild"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/telemetry"
)

const injectedToken = "inj-real-token-0123456789abcdef"

// internalAPI is a loopback HTTPS server for "localhost", signed by a CA
// of its own that the operator names in egress-upstream-ca. It records
// each request's path and Authorization and echoes the latter on /echo.
type internalAPI struct {
	port   string
	caFile string
	mu     sync.Mutex
	seen   []string
}

func (a *internalAPI) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

func startInternalAPI(t *testing.T) *internalAPI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "internal CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	a := &internalAPI{caFile: filepath.Join(t.TempDir(), "internal-ca.pem")}
	if err := os.WriteFile(a.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" debug="+r.Header.Get("X-Debug"))
		a.mu.Unlock()
		if r.URL.Path == "/echo" {
			_, _ = io.WriteString(w, "you sent: "+r.Header.Get("Authorization")+"\n")
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+injectedToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "package list\n")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, a.port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	return a
}

// startInspectEnv is an environment whose operator provides API_TOKEN to
// every installation and lets the agent reach the internal API, and whose
// org binds the token to it with method and path rules.
func startInspectEnv(t *testing.T, api *internalAPI) *harness.Env {
	t.Helper()
	return startInspectEnvImage(t, api, "agentgate/testagent:inspect")
}

// startInspectEnvImage is startInspectEnv with the test agent under the
// tag image, adjusted further by more.
func startInspectEnvImage(t *testing.T, api *internalAPI, image string, more ...func(*app.Config)) *harness.Env {
	t.Helper()
	// The test agent under a tag of its own: other work trees on this
	// engine rebuild agentgate/testagent:dev from their own sources.
	img := testagent.Spec
	img.Image = image
	requireDocker(t)
	if _, err := imagebuild.Ensure(context.Background(), dockertest.Client(t), img); err != nil {
		t.Fatal(err)
	}
	env := startEnv(t, func(c *app.Config) {
		c.AgentImage = img.Image
		c.Network.Allow = []string{"localhost:" + api.port}
		c.Network.AllowPrivate = []string{"localhost"}
		c.Network.UpstreamCAFile = api.caFile
		c.EgressCredentials = map[string]string{"API_TOKEN": injectedToken}
		c.EgressCredentialBindings = map[string]app.Binding{"API_TOKEN": {All: true}}
		for _, f := range more {
			f(c)
		}
	})
	env.GH.AddRepo(testgh.Repo{Owner: harness.Owner, Name: ".github", DefaultBranch: "main"})
	env.GH.AddFile(harness.Owner, ".github", ".github/agentgate.yml", fmt.Appendf(nil, `network:
  allow:
    - host: localhost:%s
      rules: ["GET /v1/**", "GET /echo"]
      inject: {credential: API_TOKEN, format: "Bearer {}"}
`, api.port))
	return env
}

// A real client in the sandbox (the test agent, a static Go binary)
// reaches an internal API through the inspecting proxy with a credential
// it never holds: the allowed method and path work with the token added,
// another path is refused naming the rule, an echo of the token comes
// back masked, and the token is nowhere in the sandbox's environment or
// output.
func TestEndToEndInspectedCredential(t *testing.T) {
	api := startInternalAPI(t)
	env := startInspectEnv(t, api)
	base := "https://localhost:" + api.port
	d, _ := trigger(t, env, strings.Join([]string{
		"@agentgate fetch the package list",
		"agentgate-test: proxyget " + base + "/v1/packages/left-pad",
		"agentgate-test: proxyget " + base + "/echo",
		"agentgate-test: proxyget " + base + "/admin",
		"agentgate-test: env",
		"agentgate-test: files 50 /tmp",
		"agentgate-test: write OUT.md done",
	}, "\n"), harness.Requester)
	events, all := runEvents(t, env, d.RunID)
	out := outputTail(events)
	for _, want := range []string{
		"proxyget " + base + "/v1/packages/left-pad status=200 body=package list",
		"proxyget " + base + "/echo status=200 body=you sent: Bearer ****",
		"proxyget " + base + "/admin status=403 body=agentgate egress: GET /admin refused by the network rules for localhost:" + api.port,
		"SSL_CERT_FILE=/agentgate/ca-bundle.pem",
		"NODE_EXTRA_CA_CERTS=/agentgate/ca-bundle.pem",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("agent output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(all, injectedToken) {
		t.Error("the injected credential is in the run's events or the agent's output")
	}
	seen := api.requests()
	if len(seen) != 2 || seen[0] != "GET /v1/packages/left-pad auth=Bearer "+injectedToken+" debug=" {
		t.Errorf("the internal API saw %q; want the two allowed requests, with the token added", seen)
	}
	var reqs int
	for _, ev := range events {
		if ev.Kind == telemetry.KindNetRequest {
			reqs++
			if ev.Attrs["path"] == "/v1/packages/left-pad" && (ev.Attrs["rule"] != "GET /v1/**" || ev.Attrs["credential"] != "API_TOKEN") {
				t.Errorf("request event %v", ev.Attrs)
			}
		}
	}
	if reqs != 3 {
		t.Errorf("%d net.request events, want 3:\n%s", reqs, all)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 1 {
		t.Errorf("pull requests = %d, want 1 (positive control: the run succeeds)", len(prs))
	}
}

// A planted canary leaving through an inspected host stops the run: the
// request is not sent, egress.exfiltration names where (never the value),
// and no pull request is opened.
func TestEndToEndCanaryStopsRun(t *testing.T) {
	api := startInternalAPI(t)
	env := startInspectEnv(t, api)
	base := "https://localhost:" + api.port
	start := time.Now()
	d, state := trigger(t, env, strings.Join([]string{
		"@agentgate fetch the package list",
		"agentgate-test: proxyget " + base + "/v1/packages/ok", // positive control
		"agentgate-test: proxyleak " + base + "/v1/packages/x AWS_ACCESS_KEY_ID",
		"agentgate-test: write OUT.md done",
		"agentgate-test: sleep 30",
	}, "\n"), harness.Requester)
	events, all := runEvents(t, env, d.RunID)
	seen := api.requests()
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "GET /v1/packages/ok ") {
		t.Errorf("the internal API saw %q, want only the control", seen)
	}
	var hit *telemetry.Event
	for i := range events {
		if events[i].Kind == telemetry.KindEgressExfiltration {
			hit = &events[i]
		}
	}
	if hit == nil || hit.Attrs["secret"] != "canary:aws-access-key-id" || hit.Attrs["where"] != "header X-Debug" || hit.Attrs["host"] != "localhost" {
		t.Fatalf("egress.exfiltration event %+v; events:\n%s", hit, all)
	}
	if prs := env.GH.PullRequests(harness.Owner, harness.Repo); len(prs) != 0 {
		t.Errorf("pull requests = %d, want none", len(prs))
	}
	if ex := eventOf(events, telemetry.KindSandboxExited); ex == nil || ex.Attrs["stopped"] == nil || time.Since(start) > 25*time.Second {
		t.Errorf("the sandbox was not stopped: %+v", ex)
	}
	if strings.Contains(all, "AKIA") {
		t.Error("the canary's value is in the run's events")
	}
	if state != "finished" {
		t.Errorf("state %q", state)
	}
	comments := botComments(env)
	if len(comments) == 0 || !strings.Contains(comments[len(comments)-1], "decoy credential") {
		t.Errorf("the issue comment does not explain the stop: %q", comments)
	}
	checks := env.GH.CheckRuns(harness.Owner, harness.Repo)
	if len(checks) != 1 || checks[0].Conclusion != "action_required" || checks[0].ExternalID != d.RunID ||
		!strings.Contains(checks[0].Summary, "decoy credential") || !strings.Contains(checks[0].Summary, "no pull request was opened") {
		t.Errorf("check runs %+v, want one action_required explaining the stop", checks)
	}
}
