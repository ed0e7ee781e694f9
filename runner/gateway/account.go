package gateway

import (
	"maps"
	"strings"
	"time"
)

// Request is the record of one request through the gateway, refused ones
// included. It never holds a key, a header or a body.
type Request struct {
	Time   time.Time // when the request arrived
	API    string    // APIOpenAI, APIAnthropic, or "" for an unknown route
	Path   string    // upstream path (e.g. /v1/chat/completions), or the path asked for when unknown
	Model  string    // as the upstream reported it, else as requested
	Status int       // HTTP status the client got
	Stream bool      // the response was a server-sent-event stream
	// InputTokens counts every input token (cached ones included);
	// OutputTokens every generated one.
	InputTokens, OutputTokens int64
	// Estimated is true when a successful response reported no usage and
	// the counts were estimated from body sizes (4 bytes a token), so the
	// budget still holds against upstreams that report nothing.
	Estimated bool
	CostUSD   float64       // from Options.Prices; 0 when the model has no price
	Latency   time.Duration // arrival to last byte
	FirstByte time.Duration // arrival to the first response byte forwarded (streams)
	Error     string        // the gateway's error code (Err...) when it refused or failed, else ""
	// Refused says what the policy refused (ErrRefused): a tool, a field
	// or a reference, e.g. `server-side tool "web_search_20250305"`.
	Refused string
	// DroppedBetas are beta header values not on the allowlist, removed
	// before forwarding.
	DroppedBetas []string
}

// Attrs returns the record as audit-event attributes (llm.request).
func (r Request) Attrs() map[string]any {
	a := map[string]any{
		"api":           r.API,
		"path":          r.Path,
		"model":         r.Model,
		"status":        r.Status,
		"stream":        r.Stream,
		"input_tokens":  r.InputTokens,
		"output_tokens": r.OutputTokens,
		"cost_usd":      r.CostUSD,
		"latency_ms":    r.Latency.Milliseconds(),
	}
	if r.Stream {
		a["first_byte_ms"] = r.FirstByte.Milliseconds()
	}
	if r.Estimated {
		a["estimated"] = true
	}
	if r.Error != "" {
		a["error"] = r.Error
	}
	if r.Refused != "" {
		a["refused"] = r.Refused
	}
	if len(r.DroppedBetas) > 0 {
		a["dropped_betas"] = strings.Join(r.DroppedBetas, ",")
	}
	return a
}

// ModelUsage is one model's share of a run's usage.
type ModelUsage struct {
	Requests                  int
	InputTokens, OutputTokens int64
	CostUSD                   float64
}

// Usage sums a run's requests.
type Usage struct {
	Requests                  int // requests forwarded upstream
	Refused                   int // requests the gateway answered itself (401, 404, 413, 429, …)
	InputTokens, OutputTokens int64
	CostUSD                   float64
	ByModel                   map[string]ModelUsage // forwarded requests by model ("" when unknown)
}

// Tokens is InputTokens + OutputTokens.
func (u Usage) Tokens() int64 { return u.InputTokens + u.OutputTokens }

func (u *Usage) add(r Request, forwarded bool) {
	if !forwarded {
		u.Refused++
		return
	}
	u.Requests++
	u.InputTokens += r.InputTokens
	u.OutputTokens += r.OutputTokens
	u.CostUSD += r.CostUSD
	if u.ByModel == nil {
		u.ByModel = map[string]ModelUsage{}
	}
	m := u.ByModel[r.Model]
	m.Requests++
	m.InputTokens += r.InputTokens
	m.OutputTokens += r.OutputTokens
	m.CostUSD += r.CostUSD
	u.ByModel[r.Model] = m
}

func (u Usage) clone() Usage {
	u.ByModel = maps.Clone(u.ByModel)
	return u
}

// priceOf finds model's price: an exact key, else the longest key that is
// a prefix of model.
func priceOf(prices map[string]Price, model string) (Price, bool) {
	if p, ok := prices[model]; ok {
		return p, true
	}
	best, found := "", false
	for k := range prices {
		if k != "" && strings.HasPrefix(model, k) && len(k) > len(best) {
			best, found = k, true
		}
	}
	return prices[best], found
}

// Cost is the estimated USD cost of in input and out output tokens of
// model under prices (0 when the model has no price).
func Cost(prices map[string]Price, model string, in, out int64) float64 {
	p, ok := priceOf(prices, model)
	if !ok {
		return 0
	}
	return (float64(in)*p.InputPerMTok + float64(out)*p.OutputPerMTok) / 1e6
}
