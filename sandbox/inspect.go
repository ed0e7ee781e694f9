package sandbox

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentgate/agentgate/internal/secretforms"
	"github.com/agentgate/agentgate/policy"
	"github.com/agentgate/agentgate/runner/egress"
)

// inspections turns the policy's inspected hosts into the proxy's, with
// the credentials' values.
func inspections(hosts []policy.HostRules, creds map[string]string) ([]egress.Inspection, error) {
	var out []egress.Inspection
	for _, h := range hosts {
		in := egress.Inspection{Host: h.Host, Rules: h.Rules}
		if j := h.Inject; j != nil {
			v, ok := creds[j.Credential]
			if !ok {
				return nil, fmt.Errorf("credential %s for %s is not configured on this worker (setting egress-credentials)", j.Credential, h.Host)
			}
			in.Inject = &egress.Inject{Credential: j.Credential, Value: v, Header: j.Header, Format: j.Format,
				BasicUser: j.BasicUser, Rules: j.Rules}
		}
		out = append(out, in)
	}
	return out, nil
}

// systemRootFiles are where Linux distributions keep the system roots.
var systemRootFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
	"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
	"/etc/ssl/cert.pem",                  // Alpine, macOS
}

// writeCABundle writes the run's CA certificate followed by the worker's
// system roots (so hosts the proxy does not inspect still verify) to
// dir/ca-bundle.pem, readable by the sandbox user.
func writeCABundle(dir string, ca *egress.CA) (string, error) {
	bundle := ca.CertPEM()
	for _, f := range systemRootFiles {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			bundle = append(append(bundle, '\n'), b...)
			break
		}
	}
	p := filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(p, bundle, 0o444); err != nil {
		return "", fmt.Errorf("run CA bundle: %w", err)
	}
	return p, nil
}

// upstreamRoots are the system roots plus the operator's CA file.
func upstreamRoots(file string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if file == "" {
		return pool, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("setting egress-upstream-ca: %w", err)
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("setting egress-upstream-ca: no PEM certificate in the file")
	}
	return pool, nil
}

// canaries are one run's planted fake credentials.
type canaries struct {
	env     []string          // KEY=VALUE
	files   map[string]string // path in the sandbox → host file
	secrets []secretforms.Secret
}

// CanarySeedSize is the length of a run's canary seed (Task.CanarySeed).
const CanarySeedSize = 32

// NewCanarySeed returns a fresh random canary seed for a run.
func NewCanarySeed() []byte {
	b := make([]byte, CanarySeedSize)
	_, _ = rand.Read(b)
	return b
}

// canarySecrets are the fake credentials a seed (CanarySeedSize bytes)
// stands for, named for the tripwire, in this order: an AWS key id and
// secret, a GitHub token, an npm token. The same seed gives the same
// values, so a later phase of the run (its verify command, a job's next
// attempt) recognises them.
func canarySecrets(seed []byte) []secretforms.Secret {
	src := mrand.NewChaCha8([CanarySeedSize]byte(seed))
	upper := func(n int) string {
		const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
		b := make([]byte, n)
		_, _ = src.Read(b)
		for i := range b {
			b[i] = abc[int(b[i])%len(abc)]
		}
		return string(b)
	}
	alnum := func(n int) string {
		b := make([]byte, n)
		_, _ = src.Read(b)
		s := base64.RawURLEncoding.EncodeToString(b)
		s = strings.NewReplacer("-", "a", "_", "b").Replace(s)
		return s[:n]
	}
	return []secretforms.Secret{
		{Name: "canary:aws-access-key-id", Value: "AKIA" + upper(16)}, {Name: "canary:aws-secret-access-key", Value: alnum(40)},
		{Name: "canary:github-token", Value: "ghp_" + alnum(36)}, {Name: "canary:npm-token", Value: "npm_" + alnum(36)},
	}
}

// verifyCanaries are the run's canaries for its verify command's tripwire,
// or none without a seed.
func verifyCanaries(seed []byte) []secretforms.Secret {
	if len(seed) != CanarySeedSize {
		return nil
	}
	return canarySecrets(seed)
}

// plantCanaries makes the run's fake credentials from seed (see
// canarySecrets; a seed that is not CanarySeedSize long is replaced by a
// fresh random one), shaped like real ones (a cloud key, a GitHub token, a
// registry token), and writes the files agents look in (~/.npmrc,
// ~/.aws/credentials, ~/.env) under dir. Nothing legitimate ever sends
// them anywhere.
func plantCanaries(dir string, seed []byte) (*canaries, error) {
	if len(seed) != CanarySeedSize {
		seed = NewCanarySeed()
	}
	secrets := canarySecrets(seed)
	awsID, awsSecret, ghTok, npmTok := secrets[0].Value, secrets[1].Value, secrets[2].Value, secrets[3].Value
	c := &canaries{
		env: []string{
			"AWS_ACCESS_KEY_ID=" + awsID, "AWS_SECRET_ACCESS_KEY=" + awsSecret,
			"GITHUB_TOKEN=" + ghTok, "NPM_TOKEN=" + npmTok,
		},
		secrets: secrets,
		files:   map[string]string{},
	}
	files := map[string]string{
		"/tmp/.npmrc":           "//registry.npmjs.org/:_authToken=" + npmTok + "\n",
		"/tmp/.aws/credentials": "[default]\naws_access_key_id = " + awsID + "\naws_secret_access_key = " + awsSecret + "\n",
		"/tmp/.env":             "GITHUB_TOKEN=" + ghTok + "\nAWS_ACCESS_KEY_ID=" + awsID + "\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\n",
	}
	for dst, content := range files {
		host := filepath.Join(dir, "canary-"+strings.NewReplacer("/", "-", ".", "").Replace(strings.TrimPrefix(dst, "/tmp/")))
		if err := os.WriteFile(host, []byte(content), 0o444); err != nil {
			return nil, fmt.Errorf("canary file: %w", err)
		}
		c.files[dst] = host
	}
	return c, nil
}

// caPermitted are the names the run CA may vouch for: the inspected
// hosts, or every allowed host when all are inspected.
func caPermitted(cfg NetworkConfig) []string {
	var src []string
	if cfg.InspectAll {
		src = cfg.Allow
	} else {
		for _, h := range cfg.Inspect {
			src = append(src, h.Host)
		}
	}
	var out []string
	for _, s := range src {
		h := strings.ToLower(s)
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			h = h[:i]
		}
		out = append(out, strings.TrimSuffix(h, "."))
	}
	return out
}

// exfiltrationReason explains a stopped run to the people on the issue.
func exfiltrationReason(attrs map[string]any) string {
	what := fmt.Sprint(attrs["secret"])
	kind := "one of agentgate's own secrets"
	if strings.HasPrefix(what, "canary:") {
		kind = "a decoy credential agentgate planted in the sandbox (" + strings.TrimPrefix(what, "canary:") + ")"
	} else if strings.HasPrefix(what, "credential:") {
		kind = "an operator credential (" + strings.TrimPrefix(what, "credential:") + ")"
	}
	dest := fmt.Sprintf("a request to %v", attrs["host"])
	if attrs["path"] == "gateway" {
		dest = "a request to the model API"
	}
	who, look, after := "the agent", "what the agent was asked to do and at its output", "no pull request was opened"
	switch attrs["phase"] {
	case "setup":
		who, look = "the setup phase, before the agent started", "the repository's setup command and what it runs"
	case "verify":
		who, look = "the verify command", "the pushed change, which the verify command ran,"
		after = "the verify check run asks for a maintainer's action (the pull request was opened before verification)"
	}
	return fmt.Sprintf("agentgate stopped %s: %s carried %s in its %v (%v form). The request was not sent and "+
		"%s. Nothing legitimate sends these values anywhere, so a maintainer should look at "+
		"%s before running it again", who, dest, kind, attrs["where"], attrs["form"], after, look)
}
