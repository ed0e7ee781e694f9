package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/agentgate/agentgate/internal/secretforms"
)

// Upstream is one model API the gateway forwards to.
type Upstream struct {
	// BaseURL is the server's root, e.g. https://api.openai.com or
	// http://127.0.0.1:11434. A trailing "/v1" is accepted and ignored, so
	// the usual OPENAI_BASE_URL value works too.
	BaseURL string
	// Key is the real API key. It stays on the host: it is never logged,
	// never reported and redacted from every response. Empty means the
	// upstream needs no key (a local vLLM or Ollama); otherwise it must be
	// at least MinKeyLen bytes so that redacting it cannot mangle output.
	Key string
}

// MinKeyLen is the shortest non-empty real key New accepts.
const MinKeyLen = 8

// Price is what a model costs, in USD per million tokens.
type Price struct {
	InputPerMTok  float64
	OutputPerMTok float64
}

// Defaults used when the matching Options field is zero.
const (
	DefaultMaxBodyBytes  = 32 << 20
	DefaultMaxConcurrent = 8
	// DefaultOutputReservation is the output a request that states no cap
	// reserves from the token budget.
	DefaultOutputReservation = 16384
)

// Options configure a Gateway.
type Options struct {
	// OpenAI and Anthropic are the upstreams; nil means that API is not
	// offered and its routes answer 404 with a clear body.
	OpenAI, Anthropic *Upstream
	// Placeholder is the run-scoped key the container holds (see
	// NewPlaceholder). Requests that do not present it get 401.
	Placeholder string
	// TokenBudget is the run's input+output token allowance; 0 means
	// unlimited. Once spent, requests get 429.
	TokenBudget int64
	// Prices maps model names to prices: an exact match wins, else the
	// longest key that is a prefix of the model name.
	Prices map[string]Price
	// OutputReservation is the output, in tokens, reserved from
	// TokenBudget for a request that states no output cap (max_tokens,
	// max_output_tokens, max_completion_tokens); 0 means
	// DefaultOutputReservation. With a TokenBudget, a Responses request
	// without max_output_tokens is sent with this cap.
	OutputReservation int64
	// Policy is what requests may ask the provider to do on its own; the
	// zero Policy allows client-side tools only.
	Policy Policy
	// OnRequest, if set, is called once per request when it ends.
	OnRequest func(Request)
	// MaxBodyBytes bounds request bodies (413 beyond); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxConcurrent bounds requests in flight (429 beyond); 0 means
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// Client sends upstream requests; nil means a client with sane
	// timeouts. Redirects are never followed, whatever Client says.
	Client *http.Client
	// Logger receives one line per request (never a key or a header);
	// nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secrets, when set, are looked for in every request body (canaries
	// planted in the sandbox, the worker's real secrets), in their common
	// encodings. A hit refuses the request with ErrSecret, refuses every
	// later one, and calls OnSecret.
	Secrets *secretforms.Scanner
	// OnSecret is called once per request that carried a secret.
	OnSecret func(SecretHit)
}

// SecretHit is a request the gateway refused because its body carried
// one of the run's secrets: which one and how written, never the value.
type SecretHit struct {
	API, Path string
	Secret    string // the secret's name
	Form      string // literal, base64, hex, url-encoded, ...
}

// upstream is a validated Upstream.
type upstream struct {
	base *url.URL
	key  string
}

func (o *Options) validate() error {
	if o.Placeholder == "" {
		return errors.New("gateway: a placeholder key is required")
	}
	if o.OpenAI == nil && o.Anthropic == nil {
		return errors.New("gateway: no upstream configured")
	}
	if o.TokenBudget < 0 || o.MaxBodyBytes < 0 || o.MaxConcurrent < 0 || o.OutputReservation < 0 {
		return errors.New("gateway: negative limit")
	}
	for _, u := range []*Upstream{o.OpenAI, o.Anthropic} {
		if u != nil && u.Key != "" && u.Key == o.Placeholder {
			return errors.New("gateway: the placeholder must differ from the real key")
		}
	}
	return nil
}

func parseUpstream(name string, u *Upstream) (*upstream, error) {
	if u == nil {
		return nil, nil
	}
	if u.Key != "" && len(u.Key) < MinKeyLen {
		return nil, fmt.Errorf("gateway: %s key shorter than %d bytes cannot be redacted safely (leave it empty for a keyless upstream)", name, MinKeyLen)
	}
	if strings.ContainsAny(u.Key, "\r\n") {
		return nil, fmt.Errorf("gateway: %s key contains a line break", name)
	}
	b, err := url.Parse(u.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("gateway: %s base URL: %w", name, err)
	}
	if (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" {
		return nil, fmt.Errorf("gateway: %s base URL %q: want http(s)://host[:port][/path]", name, u.BaseURL)
	}
	if b.User != nil || b.RawQuery != "" || b.Fragment != "" {
		return nil, fmt.Errorf("gateway: %s base URL may not hold credentials, a query or a fragment", name)
	}
	p := strings.TrimSuffix(b.Path, "/")
	p = strings.TrimSuffix(p, "/v1")
	b = &url.URL{Scheme: b.Scheme, Host: b.Host, Path: p}
	return &upstream{base: b, key: u.Key}, nil
}

// newClient returns c (or a default) with redirects disabled: a redirect
// could carry the real key (x-api-key survives Go's redirect policy) to
// another host.
func newClient(c *http.Client) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = 10 * time.Minute
		t.MaxResponseHeaderBytes = 1 << 20
		out.Transport = t
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}
