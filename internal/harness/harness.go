package harness

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/testagent"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/internal/testgit"
	"github.com/agentgate/agentgate/runner/agentimage"
	"github.com/agentgate/agentgate/runner/relayimage"
)

//go:embed payloads/*.json
var payloads embed.FS

// embeddedSpec is a copy of ../shared/github/github-openapi-subset.json, so
// `agentgate-demo` validates its GitHub stand-in on a machine that has only
// this repository. Tests and CI use the shared file when it is there.
//
//go:embed github-openapi-subset.json.gz
var embeddedSpec []byte

// specPath finds GitHub's description: the given path, the shared file
// above the working directory, else the embedded copy written into dir.
func specPath(given, dir string) (string, error) {
	if given != "" {
		return given, nil
	}
	if wd, err := os.Getwd(); err == nil {
		if p, err := testgh.FindSpec(wd); err == nil {
			return p, nil
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(embeddedSpec))
	if err != nil {
		return "", fmt.Errorf("embedded GitHub description: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return "", fmt.Errorf("embedded GitHub description: %w", err)
	}
	p := filepath.Join(dir, "github-openapi-subset.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return "", fmt.Errorf("embedded GitHub description: %w", err)
	}
	return p, nil
}

// The repository and people of GitHub's example payloads.
const (
	Owner          = "Codertocat"
	Repo           = "Hello-World"
	RepoID         = 186853002
	InstallationID = 1
	IssueNumber    = 1
	IssueTitle     = "Spelling error in the README file"
	IssueBody      = "It looks like you accidently spelled 'commit' with two 't's."
	Requester      = "Codertocat"
	AppID          = 4242
)

// RequesterID is the example payloads' user id, Requester's.
const RequesterID = 21031067

// UserID is the GitHub user id payloads built here give login: the
// example's for Requester, a fixed number derived from the login for
// everyone else, so two people are never one account by id.
func UserID(login string) int64 {
	if strings.EqualFold(login, Requester) {
		return RequesterID
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(login)))
	return 100_000_000 + int64(h.Sum32()%100_000_000)
}

// appKey is the GitHub App's key of every environment in this process:
// generating one takes a noticeable part of a start.
var appKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// Options adjust the environment.
type Options struct {
	Dir      string                // working directory (temporary, owned by the caller)
	Logger   *slog.Logger          // nil: discard
	Config   func(cfg *app.Config) // last word on the server's configuration
	SpecPath string                // GitHub OpenAPI description; empty: searched for
	// NoApp leaves agentgate unstarted: the test runs it itself (e.g. as
	// a subprocess from Config) and sets Env.Target to its webhook
	// listener.
	NoApp bool
	// Sandbox, when set, stands in for the Docker sandbox: no engine is
	// needed and no image is built (tests of the GitHub side).
	Sandbox app.SandboxRunner
}

// Env is a running environment.
type Env struct {
	GH       *testgh.Server
	Git      *testgit.Server
	App      *app.Server
	Config   app.Config
	CloneURL string
	Docker   *client.Client
	// Target is the webhook listener's address when App is nil (NoApp).
	Target  string
	secret  []byte
	log     *slog.Logger
	sandbox app.SandboxRunner
}

// Start builds the test agent image (when needed), starts the git server,
// the GitHub stand-in and agentgate, and seeds the example repository.
func Start(ctx context.Context, opts Options) (_ *Env, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Env{log: log, sandbox: opts.Sandbox}
	defer func() {
		if err != nil {
			e.Close(context.WithoutCancel(ctx))
		}
	}()
	if opts.Sandbox == nil {
		if err := e.dockerImages(ctx); err != nil {
			return nil, err
		}
	}
	key, err := appKey()
	if err != nil {
		return nil, fmt.Errorf("app key: %w", err)
	}
	// Pull request heads resolve against the real git server, as GitHub's
	// would against the pushed branch.
	resolve := func(owner, repo, branch string) (string, bool) {
		if e.Git == nil {
			return "", false
		}
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sha, err := e.Git.Ref(rctx, owner+"/"+repo, "refs/heads/"+branch)
		return sha, err == nil
	}
	spec, err := specPath(opts.SpecPath, opts.Dir)
	if err != nil {
		return nil, err
	}
	e.GH, err = testgh.New(testgh.Options{
		SpecPath: spec, AppID: AppID, AppPublicKey: &key.PublicKey, AppSlug: "agentgate",
		ResolveRef: resolve, ValidateResponses: true, Logger: log,
		// The Git Data API writes the git server's bare repositories.
		GitDir: func(owner, repo string) (string, bool) {
			if e.Git == nil {
				return "", false
			}
			return e.Git.Path(owner + "/" + repo), true
		},
	})
	if err != nil {
		return nil, fmt.Errorf("github stand-in: %w", err)
	}
	e.Git, err = testgit.New(filepath.Join(opts.Dir, "git"), func(token, repo string, write bool) bool {
		owner, name, ok := strings.Cut(strings.TrimSuffix(repo, ".git"), "/")
		return ok && e.GH.TokenAllows(token, owner, name, write)
	})
	if err != nil {
		return nil, fmt.Errorf("git server: %w", err)
	}
	// GitHub refuses workflow changes from an app without the workflows
	// permission, which agentgate does not ask for.
	e.Git.SetWorkflowsAuthorizer(func(token, repo string) bool {
		owner, name, ok := strings.Cut(strings.TrimSuffix(repo, ".git"), "/")
		return ok && e.GH.TokenHasPermission(token, owner, name, "workflows", "write")
	})
	e.CloneURL, err = e.Git.CreateRepo(ctx, Owner+"/"+Repo, map[string]string{
		"README.md": "# Hello-World\n\nMy first commmit.\n",
	})
	if err != nil {
		return nil, fmt.Errorf("seed repository: %w", err)
	}
	e.GH.AddInstallation(InstallationID, Owner)
	e.GH.AddRepo(testgh.Repo{ID: RepoID, Owner: Owner, Name: Repo, DefaultBranch: "main", CloneURL: e.CloneURL})
	e.GH.SetPermission(Owner, Repo, Requester, "admin")
	e.GH.AddIssue(Owner, Repo, IssueNumber, IssueTitle, IssueBody, Requester)

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	e.secret = []byte(hex.EncodeToString(secret))
	cfg := app.DefaultConfig()
	cfg.AppID = AppID
	cfg.PrivateKey = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	cfg.WebhookSecret = e.secret
	cfg.GitHubAPIURL = e.GH.URL() + "/api/v3/"
	cfg.Listen = "127.0.0.1:0"
	cfg.AdminListen = "127.0.0.1:0"
	cfg.DatabaseURL = filepath.Join(opts.Dir, "agentgate.db")
	cfg.DataDir = filepath.Join(opts.Dir, "data")
	cfg.WorkerID = "harness-" + hex.EncodeToString(secret[:4])
	cfg.AgentImage = testagent.Image
	cfg.Limits.Timeout = 2 * time.Minute
	cfg.Limits.MemoryBytes = 256 << 20
	cfg.WorkspaceBytes = 64 << 20
	cfg.WorkspaceInodes = 10_000
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	e.Config = cfg
	if opts.NoApp {
		return e, nil
	}
	e.App, err = app.NewServerWith(ctx, cfg, log, app.ServerOptions{Sandbox: opts.Sandbox})
	if err != nil {
		return nil, fmt.Errorf("agentgate: %w", err)
	}
	if err := e.App.Start(ctx); err != nil {
		return nil, fmt.Errorf("agentgate: %w", err)
	}
	return e, nil
}

// dockerImages connects to the Docker engine and builds the images runs
// need: the test agent, the relay and the built-in agent.
func (e *Env) dockerImages(ctx context.Context) (err error) {
	e.Docker, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	if _, err := testagent.EnsureImage(ctx, e.Docker); err != nil {
		return fmt.Errorf("test agent image: %w", err)
	}
	if _, err := relayimage.EnsureImage(ctx, e.Docker); err != nil {
		return fmt.Errorf("relay image: %w", err)
	}
	if _, err := agentimage.EnsureImage(ctx, e.Docker); err != nil {
		return fmt.Errorf("built-in agent image: %w", err)
	}
	return nil
}

// RestartApp shuts agentgate down with the given drain deadline and starts
// it again on the same database and configuration, as a restarted worker.
func (e *Env) RestartApp(ctx context.Context, drain time.Duration) error {
	sctx, cancel := context.WithTimeout(ctx, drain)
	err := e.App.Shutdown(sctx)
	cancel()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	e.App = nil
	srv, err := app.NewServerWith(ctx, e.Config, e.log, app.ServerOptions{Sandbox: e.sandbox})
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	e.App = srv
	return nil
}

// Close stops everything the environment started.
func (e *Env) Close(ctx context.Context) {
	if e.App != nil {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_ = e.App.Shutdown(sctx)
		cancel()
	}
	if e.Git != nil {
		e.Git.Close()
	}
	if e.GH != nil {
		e.GH.Close()
	}
	if e.Docker != nil {
		_ = e.Docker.Close()
	}
}

// payload loads one of GitHub's example payloads and points it at this
// environment: the git server's clone URL, branch "main", the installation.
func (e *Env) payload(name string, patch func(m map[string]any)) ([]byte, error) {
	b, err := payloads.ReadFile("payloads/" + name)
	if err != nil {
		return nil, fmt.Errorf("payload %s: %w", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("payload %s: %w", name, err)
	}
	repo := m["repository"].(map[string]any)
	repo["clone_url"] = e.CloneURL
	repo["default_branch"] = "main"
	m["installation"] = map[string]any{"id": InstallationID, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
	if patch != nil {
		patch(m)
	}
	return json.Marshal(m)
}

// CommentPayload posts a comment on the example issue (in the stand-in) and
// returns GitHub's issue_comment.created example for it, with its id.
func (e *Env) CommentPayload(body, login, userType string) ([]byte, int64, error) {
	return e.CommentPayloadWith(body, login, userType, nil)
}

// CommentPayloadWith is CommentPayload with a last patch of the payload
// (e.g. a hostile issue title).
func (e *Env) CommentPayloadWith(body, login, userType string, patch func(m map[string]any)) ([]byte, int64, error) {
	id := e.GH.AddComment(Owner, Repo, IssueNumber, body, login)
	b, err := e.payload("issue_comment.created.json", func(m map[string]any) {
		c := m["comment"].(map[string]any)
		c["body"] = body
		c["id"] = id
		u := c["user"].(map[string]any)
		u["login"], u["type"], u["id"] = login, userType, UserID(login)
		s := m["sender"].(map[string]any)
		s["login"], s["type"], s["id"] = login, userType, UserID(login)
		if patch != nil {
			patch(m)
		}
	})
	return b, id, err
}

// LabelPayload is GitHub's issues.labeled example with the given label.
func (e *Env) LabelPayload(label, login string) ([]byte, error) {
	return e.payload("issues.labeled.json", func(m map[string]any) {
		m["label"].(map[string]any)["name"] = label
		s := m["sender"].(map[string]any)
		s["login"], s["id"] = login, UserID(login)
	})
}

// Sign is the X-Hub-Signature-256 value of body under the environment's secret.
func (e *Env) Sign(body []byte) string {
	mac := hmac.New(sha256.New, e.secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Delivery is intake's answer to one delivery.
type Delivery struct {
	Status int
	RunID  string
	Body   string
}

// Deliver POSTs a signed delivery to /webhook as GitHub would.
func (e *Env) Deliver(ctx context.Context, event, deliveryID string, body []byte) (Delivery, error) {
	return e.DeliverRaw(ctx, event, deliveryID, body, e.Sign(body))
}

// DeliverTo POSTs a signed delivery to the intake listening on addr (one
// of several replicas).
func (e *Env) DeliverTo(ctx context.Context, addr, event, deliveryID string, body []byte) (Delivery, error) {
	return e.deliverAt(ctx, addr, event, deliveryID, body, e.Sign(body))
}

// DeliverRaw POSTs a delivery with the given signature header ("" = none).
func (e *Env) DeliverRaw(ctx context.Context, event, deliveryID string, body []byte, signature string) (Delivery, error) {
	addr := e.Target
	if e.App != nil {
		addr = e.App.Addr()
	}
	return e.deliverAt(ctx, addr, event, deliveryID, body, signature)
}

func (e *Env) deliverAt(ctx context.Context, addr, event, deliveryID string, body []byte, signature string) (Delivery, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/webhook", bytes.NewReader(body))
	if err != nil {
		return Delivery{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/harness")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", deliveryID)
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Delivery{}, fmt.Errorf("deliver: %w", err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	d := Delivery{Status: resp.StatusCode, Body: string(rb)}
	var v struct {
		RunID string `json:"run_id"`
	}
	if json.Unmarshal(rb, &v) == nil {
		d.RunID = v.RunID
	}
	return d, nil
}

// WaitRun waits until the run has finished and returns its final state.
func (e *Env) WaitRun(ctx context.Context, runID string) (string, error) {
	if runID == "" {
		return "", errors.New("no run id")
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		state, done, err := e.App.RunState(ctx, runID)
		if err != nil {
			return "", err
		}
		if done {
			return state, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("run %s did not finish (state %q): %w", runID, state, ctx.Err())
		case <-t.C:
		}
	}
}
