package webhook

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/agentgate/agentgate/store"
)

// seedPayloads returns the real example payloads the fuzz targets start
// from: this package's testdata and GitHub's own examples in
// ../shared/github/webhooks when the shared directory is beside the repo.
func seedPayloads(f *testing.F) map[string][]byte {
	f.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{"testdata", "../internal/harness/payloads", "../../shared/github/webhooks"} {
		names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err == nil {
				out[filepath.Base(n)] = b
			}
		}
	}
	if len(out) == 0 {
		f.Fatal("no seed payloads found")
	}
	return out
}

// eventOf is the X-GitHub-Event of an example file name such as
// "issue_comment.created.json".
func eventOf(name string) string {
	ev, _, _ := strings.Cut(name, ".")
	return ev
}

// FuzzParseMention: a mention is recognised only where a line begins
// (after white space), ASCII case-insensitively, followed by white space,
// ',' or ':' or the end; the instructions are the trimmed rest of the body
// after it. The same body quoted, or indented as a code block, never
// addresses agentgate.
func FuzzParseMention(f *testing.F) {
	for _, s := range []string{
		"@agentgate fix the flaky test", "  @AgentGate\tdo it", "@agentgatex no", "@agentgate", "please @agentgate go",
		"@agentgat\u212a go", "\u00a0@agentgate\u2028go", "@agentgate\u200bgo", "@agentgate help", "@agentgate status",
		"@agentgate cancel", "@agentgate retry", "@agentgate approve", "", "@", "\xff@agentgate go",
		"Thanks!\n@agentgate please fix this", "@agentgate, go", "@agentgate: go", "> @agentgate go",
		"```\n@agentgate go\n```", "`x\n@agentgate y`", "<!--\n@agentgate\n-->", "> a\n@agentgate lazy",
	} {
		f.Add(s, "@agentgate")
	}
	f.Add("/ag go", "/ag")
	f.Add("anything", "")
	f.Fuzz(func(t *testing.T, body, mention string) {
		instr, ok := ParseMention(body, mention)
		if !ok {
			if instr != "" {
				t.Fatalf("no mention but instructions %q", instr)
			}
		} else {
			if mention == "" {
				t.Fatal("an empty mention matched")
			}
			found := false
			for _, i := range lineStartMentions(body, mention) {
				lead := strings.TrimLeftFunc(body[strings.LastIndexAny(body[:i], "\n\r")+1:i], unicode.IsSpace)
				if lead != "" || toASCIILower(body[i:i+len(mention)]) != toASCIILower(mention) {
					t.Fatalf("mention at %d of %q does not begin a line", i, body)
				}
				rest := body[i+len(mention):]
				if rest != "" && (rest[0] == ',' || rest[0] == ':') {
					rest = rest[1:]
				} else if r, _ := utf8.DecodeRuneInString(rest); rest != "" && !unicode.IsSpace(r) {
					t.Fatalf("mention %q followed by %q in %q", mention, r, body)
				}
				if instr == strings.TrimSpace(rest) {
					found = true
				}
			}
			if !found || !strings.HasSuffix(strings.TrimRightFunc(body, unicode.IsSpace), instr) {
				t.Fatalf("instructions %q are not the trimmed rest of %q after a mention", instr, body)
			}
		}
		if mention == "" || strings.ContainsRune(body, '\r') {
			return
		}
		lines := strings.Split(body, "\n")
		quoted := "> " + strings.Join(lines, "\n> ")
		if _, ok := ParseMention(quoted, mention); ok {
			t.Fatalf("a quote addresses agentgate: %q", quoted)
		}
		code := "text\n\n    " + strings.Join(lines, "\n    ")
		if _, ok := ParseMention(code, mention); ok {
			t.Fatalf("an indented code block addresses agentgate: %q", code)
		}
	})
}

// toASCIILower lowercases ASCII letters only, as the mention match does.
func toASCIILower(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lower(b[i])
	}
	return string(b)
}

// FuzzWebhookRouting sends arbitrary deliveries through the whole intake
// handler on a real store: every request is answered with one of the
// statuses the contract allows; an unsigned or wrongly signed one is
// always 401; a 202 means exactly one new job and the same delivery sent
// again never queues a second.
func FuzzWebhookRouting(f *testing.F) {
	for name, body := range seedPayloads(f) {
		f.Add(eventOf(name), "d-"+name, body, true)
	}
	f.Add("issue_comment", "d-1", []byte(`{"action":"created","comment":{"id":1,"body":"@agentgate go","user":{"login":"a","type":"User"}},"issue":{"number":1},"repository":{"name":"r","owner":{"login":"o"}},"installation":{"id":1}}`), true)
	f.Add("issues", "d-2", []byte(`{"action":"labeled","label":{"name":"agentgate"}}`), false)
	f.Add("", "", []byte("{"), true)
	f.Add("ping", "d\x00", []byte(`{}`), true)

	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	client, err := river.NewClient(db.RiverDriver(), &river.Config{})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(Config{Secret: testSecret, MaxBody: 1 << 20}, db.SQL, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	jobs := func(t *testing.T) int {
		var n int
		if err := db.SQL.QueryRow(`SELECT count(*) FROM river_job`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	post := func(event, delivery string, body []byte, signed bool) int {
		req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-GitHub-Delivery", delivery)
		if signed {
			req.Header.Set("X-Hub-Signature-256", Sign(testSecret, body))
		} else {
			req.Header.Set("X-Hub-Signature-256", Sign([]byte("another secret"), body))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	f.Fuzz(func(t *testing.T, event, delivery string, body []byte, signed bool) {
		if strings.ContainsAny(event+delivery, "\r\n\x00") {
			// Not expressible as an HTTP header value.
			event = strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' || r == 0 {
					return -1
				}
				return r
			}, event)
			delivery = strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' || r == 0 {
					return -1
				}
				return r
			}, delivery)
		}
		before := jobs(t)
		code := post(event, delivery, body, signed)
		after := jobs(t)
		switch {
		case !signed && code != http.StatusUnauthorized:
			t.Fatalf("badly signed delivery answered %d", code)
		case code == http.StatusAccepted && after != before+1:
			t.Fatalf("202 but %d new jobs", after-before)
		case code != http.StatusAccepted && after != before:
			t.Fatalf("status %d but %d new jobs", code, after-before)
		}
		switch code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("unexpected status %d", code)
		}
		if code == http.StatusAccepted {
			routed, _, err := Route(event, body, srv.cfg)
			action, _, aerr := ParseCheckAction(body)
			if (err != nil || (routed.Run == nil && routed.Job == nil)) && (event != "check_run" || aerr != nil || action == nil) {
				t.Fatalf("queued a delivery neither Route nor ParseCheckAction accepts: %v / %v", err, aerr)
			}
			if again := post(event, delivery, body, true); again == http.StatusAccepted || jobs(t) != after {
				t.Fatalf("the same delivery again: %d, jobs %d -> %d", again, after, jobs(t))
			}
		}
	})
}
