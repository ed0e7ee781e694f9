package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentgate/agentgate/app"
	"github.com/agentgate/agentgate/internal/testgh"
	"github.com/agentgate/agentgate/store"
	"github.com/agentgate/agentgate/telemetry"
)

// readmeBlock is the body of the ```sh block whose first line starts with
// first, in README.md or a page of docs/, one command line per element.
func readmeBlock(t *testing.T, first string) []string {
	t.Helper()
	for _, name := range docFiles(t) {
		s := readDoc(t, name)
		i := strings.Index(s, "```sh\n"+first)
		if i < 0 {
			continue
		}
		s = s[i+len("```sh\n"):]
		return strings.Split(strings.TrimSuffix(s[:strings.Index(s, "```")], "\n"), "\n")
	}
	t.Fatalf("neither README.md nor docs/*.md has an sh block starting with %q", first)
	return nil
}

// readmeShell runs a README line as written through sh, in dir, with the
// built binary as `agentgate` on PATH and env added to the user's.
func readmeShell(ctx context.Context, t *testing.T, dir, line string, env []string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(env, "PATH="+filepath.Dir(plainBinary(t))+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestREADMEAuditCommands runs the audit section's block line by line, as
// written (RUN_ID replaced by a run's id), from a fresh directory with no
// path flag: the commands find the default state directory's database and
// audit key.
func TestREADMEAuditCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	root := t.TempDir()
	home, state, cwd := filepath.Join(root, "home"), filepath.Join(root, "state"), filepath.Join(root, "cwd")
	data := filepath.Join(state, "agentgate")
	for _, d := range []string{home, data, cwd} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// run-p: a finished run with its signed provenance and a kept diff;
	// run-f: a failed run of octo/repo.
	dbPath, keyPath := attestedDBIn(t, data, signedOwn)
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	key, err := store.LoadAuditKey(keyPath, false)
	if err != nil {
		t.Fatal(err)
	}
	db.SetAuditKey(key)
	const keptDiff = "diff --git a/KEPT.md b/KEPT.md\nnew file mode 100644\n--- /dev/null\n+++ b/KEPT.md\n@@ -0,0 +1 @@\n+kept\n"
	if err := db.RecordEffect(ctx, "run-p", app.DiffEffect, keptDiff); err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnsureRun(ctx, store.Run{ID: "run-f", Repo: "octo/repo", Issue: 2, Requester: "bob", State: "failed"}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{telemetry.KindRunQueued, telemetry.KindRunFinished} {
		if _, err := db.Append(ctx, telemetry.Event{RunID: "run-f", Kind: kind, Actor: "app", Attrs: map[string]any{"outcome": "failed"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	lines := readmeBlock(t, "agentgate audit list")
	// What each line must print, by the line's command (the part before
	// its comment).
	want := map[string][]string{
		"agentgate audit list --repo octo/repo --outcome failed":                   {"run-f", "octo/repo"},
		"agentgate audit show RUN_ID":                                              {"run-p", telemetry.KindGitPushed, "head "},
		"agentgate audit show RUN_ID --diff":                                       {"+kept"},
		"agentgate audit show RUN_ID --diff --raw | git apply":                     nil,
		"agentgate audit export --since 2026-01-01 > events.jsonl":                 nil,
		"agentgate audit verify":                                                   {"OK: head ", "provenance records 1"},
		"agentgate audit verify --public-key audit-2.pub --public-key audit-1.pub": {"OK: head ", "provenance records 1"},
		"agentgate audit attest RUN_ID":                                            {"signature good"},
		"agentgate audit prune --older-than 2160h":                                 {"pruned 0 runs"},
	}
	// The public keys the rotation line names: audit-1.pub the key this
	// trail was signed with, audit-2.pub a newer one.
	newer, err := store.LoadAuditKey(filepath.Join(root, "audit-2.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]ed25519.PrivateKey{"audit-1.pub": key, "audit-2.pub": newer} {
		der, err := x509.MarshalPKIXPublicKey(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cwd, name), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := userEnv(home, state)
	for _, line := range lines {
		command := strings.TrimSpace(strings.SplitN(line, "#", 2)[0])
		w, ok := want[command]
		if !ok {
			t.Errorf("README audit line %q: this test does not know it", line)
			continue
		}
		delete(want, command)
		out, err := readmeShell(ctx, t, cwd, strings.ReplaceAll(line, "RUN_ID", "run-p"), env)
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, out)
			continue
		}
		for _, s := range w {
			if !strings.Contains(out, s) {
				t.Errorf("%s: output lacks %q:\n%s", command, s, out)
			}
		}
		if strings.Contains(command, "list") && strings.Contains(out, "run-p") {
			t.Errorf("%s: lists run-p (octo/one, succeeded):\n%s", command, out)
		}
	}
	for command := range want {
		t.Errorf("README's audit block no longer has %q", command)
	}

	// The files the lines wrote, and nothing else.
	if b, err := os.ReadFile(filepath.Join(cwd, "KEPT.md")); err != nil || string(b) != "kept\n" {
		t.Errorf("git apply of the kept diff: KEPT.md = %q, %v", b, err)
	}
	events, err := os.ReadFile(filepath.Join(cwd, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(events), "\n"); n < 6 || !strings.Contains(string(events), `"run-f"`) {
		t.Errorf("events.jsonl: %d lines:\n%s", n, events)
	}
	ents, err := os.ReadDir(cwd)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "KEPT.md" && e.Name() != "events.jsonl" && e.Name() != "audit-1.pub" && e.Name() != "audit-2.pub" { // the .pub files are the test's
			t.Errorf("an audit command wrote %s into its working directory", e.Name())
		}
	}
}

// TestREADMERedeliver runs the redeliver section's two lines as written,
// from a fresh directory, with the app's credentials as the README says
// (AGENTGATE_APP_ID and AGENTGATE_PRIVATE_KEY_FILE) and GitHub the
// loopback stand-in.
func TestREADMERedeliver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := testgh.New(testgh.Options{AppID: 77, AppPublicKey: &key.PublicKey, ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	root := t.TempDir()
	home, state, cwd := filepath.Join(root, "home"), filepath.Join(root, "state"), filepath.Join(root, "cwd")
	for _, d := range []string{home, cwd} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(root, "app.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := gh.AddHookDelivery(testgh.HookDelivery{GUID: "g-failed", DeliveredAt: time.Now().Add(-5 * time.Hour), StatusCode: 502, Status: "Invalid HTTP Response: 502", Event: "issue_comment", Action: "created"})
	gh.AddHookDelivery(testgh.HookDelivery{GUID: "g-ok", DeliveredAt: time.Now().Add(-time.Hour), StatusCode: 202, Status: "OK", Event: "issues", Action: "opened"})
	gh.AddHookDelivery(testgh.HookDelivery{GUID: "g-old", DeliveredAt: time.Now().Add(-7 * time.Hour), StatusCode: 500, Event: "issues", Action: "labeled"})
	env := userEnv(home, state, "AGENTGATE_APP_ID=77", "AGENTGATE_PRIVATE_KEY_FILE="+keyFile, "AGENTGATE_GITHUB_API_URL="+gh.APIURL())

	lines := readmeBlock(t, "agentgate redeliver")
	if len(lines) != 2 || !regexp.MustCompile(`^agentgate redeliver --since 6h --dry-run\s`).MatchString(lines[0]) || strings.TrimSpace(lines[1]) != "agentgate redeliver --since 6h" {
		t.Fatalf("the README's redeliver block is %q; this test knows the dry run then the redelivery", lines)
	}
	out, err := readmeShell(ctx, t, cwd, lines[0], env)
	if err != nil {
		t.Fatalf("%s: %v\n%s", lines[0], err, out)
	}
	if !strings.Contains(out, "would redeliver  "+strconv.FormatInt(failed, 10)+"  g-failed") || strings.Contains(out, "g-ok") || strings.Contains(out, "g-old") {
		t.Errorf("%s:\n%s", lines[0], out)
	}
	if r := gh.Redeliveries(); len(r) != 0 {
		t.Fatalf("the dry run redelivered %v", r)
	}
	out, err = readmeShell(ctx, t, cwd, lines[1], env)
	if err != nil {
		t.Fatalf("%s: %v\n%s", lines[1], err, out)
	}
	if got := gh.Redeliveries(); !slices.Equal(got, []int64{failed}) {
		t.Errorf("%s redelivered %v, want [%d]:\n%s", lines[1], got, failed, out)
	}
	if v := gh.Violations(); len(v) != 0 {
		t.Errorf("GitHub API violations: %q", v)
	}
	checkEmpty(t, cwd)
}

// TestREADMEServeHelp: "`agentgate serve -h` lists them all, with their
// defaults."
func TestREADMEServeHelp(t *testing.T) {
	readmeLine(t, ".*`agentgate serve -h` lists them all, with their defaults.*")
	cwd := t.TempDir()
	out, err := readmeShell(context.Background(), t, cwd, "agentgate serve -h", userEnv(t.TempDir(), t.TempDir()))
	if err != nil {
		t.Fatalf("agentgate serve -h: %v\n%s", err, out)
	}
	for _, w := range []string{"-database-url", "-data-dir", "(default $XDG_STATE_HOME/agentgate", "-listen", `(default ":8080")`, "(env AGENTGATE_WEBHOOK_SECRET)"} {
		if !strings.Contains(out, w) {
			t.Errorf("agentgate serve -h lacks %q:\n%s", w, out)
		}
	}
	checkEmpty(t, cwd)
}

// TestREADMEAuditKeyFromOpenSSL: the docker-compose block's audit key line
// (the Kubernetes block pipes the same command's output into a secret)
// makes a key agentgate signs with.
func TestREADMEAuditKeyFromOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skipf("openssl not installed: %v", err)
	}
	var line string
	for _, l := range readmeBlock(t, "deploy/build.sh") {
		if strings.HasPrefix(l, "openssl genpkey") {
			line = l
		}
	}
	if line != "openssl genpkey -algorithm ed25519 -out deploy/secrets/audit-key.pem" {
		t.Fatalf("the compose block's key line is %q; this test knows openssl genpkey -algorithm ed25519 -out deploy/secrets/audit-key.pem", line)
	}
	root := t.TempDir()
	cwd := filepath.Join(root, "cwd")
	if err := os.MkdirAll(filepath.Join(cwd, "deploy", "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env := userEnv(filepath.Join(root, "home"), filepath.Join(root, "state"))
	if out, err := readmeShell(ctx, t, cwd, line, env); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	// The key signs: prune writes a signed checkpoint, verify checks it.
	for _, cmd := range []string{
		"agentgate audit prune --older-than 2160h --audit-key-file deploy/secrets/audit-key.pem",
		"agentgate audit verify --audit-key-file deploy/secrets/audit-key.pem",
	} {
		if out, err := readmeShell(ctx, t, cwd, cmd, env); err != nil || !strings.Contains(out, map[bool]string{true: "pruned 0 runs", false: "OK: head "}[strings.Contains(cmd, "prune")]) {
			t.Errorf("%s: %v\n%s", cmd, err, out)
		}
	}
}
