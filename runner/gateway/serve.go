package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// maxParsedBody bounds how much of a non-streamed response is kept to read
// its usage; larger responses pass through and count as estimated.
const maxParsedBody = 8 << 20

// ServeHTTP answers one request from the sandbox: route, check the
// placeholder, the budget and the body, then forward.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Time: g.now(), Path: truncate(r.URL.Path, 200)}
	refuse := func(api string, status int, code, msg string) {
		rec.Status, rec.Error = status, code
		writeError(w, api, status, code, msg)
		g.finish(r.Context(), rec, false, 0)
	}
	errAPI := APIOpenAI
	if strings.HasPrefix(r.URL.Path, "/anthropic/") {
		errAPI = APIAnthropic
	}
	if g.isClosed() {
		refuse(errAPI, http.StatusServiceUnavailable, ErrClosed, "agentgate: the LLM gateway for this run is closed")
		return
	}
	if g.tripped.Load() {
		refuse(errAPI, http.StatusForbidden, ErrSecret, "agentgate: this run is stopped: a request carried one of its secrets")
		return
	}
	rt, ok := resolve(r.URL.Path)
	if !ok {
		refuse(errAPI, http.StatusNotFound, ErrUnknownRoute, fmt.Sprintf(
			"agentgate: %s is not a model API route this gateway serves (OpenAI: /openai/v1/chat/completions, /openai/v1/responses, /openai/v1/models; Anthropic: /anthropic/v1/messages)",
			truncate(r.URL.Path, 200)))
		return
	}
	rec.API, rec.Path = rt.api, rt.path
	up := g.apis[rt.api]
	if up == nil {
		refuse(rt.api, http.StatusNotFound, ErrNotOffered, fmt.Sprintf("agentgate: the %s API is not offered to this run", rt.api))
		return
	}
	if r.Method != rt.method {
		w.Header().Set("Allow", rt.method)
		refuse(rt.api, http.StatusMethodNotAllowed, ErrMethod, fmt.Sprintf("agentgate: %s %s only", rt.method, rt.path))
		return
	}
	if !g.authorized(r, rt.api) {
		refuse(rt.api, http.StatusUnauthorized, ErrUnauthorized, "agentgate: use the placeholder API key this run was given (see OPENAI_API_KEY / ANTHROPIC_API_KEY)")
		return
	}
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	default:
		refuse(rt.api, http.StatusTooManyRequests, ErrBusy, fmt.Sprintf("agentgate: at most %d model requests at a time", cap(g.slots)))
		return
	}
	if rt.tokens && g.budgetSpent() {
		refuse(rt.api, http.StatusTooManyRequests, ErrBudget, fmt.Sprintf("agentgate: this run's LLM token budget (%d tokens) is spent; no further model requests are allowed", g.budget))
		return
	}
	var body []byte
	var info requestInfo
	if r.Method == http.MethodPost {
		var err error
		body, err = g.readBody(w, r)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			refuse(rt.api, http.StatusRequestEntityTooLarge, ErrTooLarge, fmt.Sprintf("agentgate: request body over %d bytes", g.maxBody))
			return
		case err != nil:
			refuse(rt.api, http.StatusBadRequest, ErrBadBody, "agentgate: could not read the request body")
			return
		}
		// Model APIs take JSON: the strings are scanned decoded too, so a
		// secret spelt with JSON escapes is found.
		if hit, decoded, found := g.secrets.ScanJSON(body); found {
			if decoded {
				hit.Form = "json-escaped " + hit.Form
			}
			g.tripped.Store(true)
			g.log.WarnContext(r.Context(), "llm request carried a secret; refused", "api", rt.api, "path", rt.path,
				"secret", hit.Name, "form", hit.Form)
			if g.onSecret != nil { // before the agent hears of it
				g.onSecret(SecretHit{API: rt.api, Path: rt.path, Secret: hit.Name, Form: hit.Form})
			}
			refuse(rt.api, http.StatusForbidden, ErrSecret,
				"agentgate: this request carries one of the run's secrets; it was not sent, and the run is stopped")
			return
		}
		defaultOut := int64(0)
		if g.budget > 0 {
			defaultOut = g.outReserve
		}
		info, body, err = inspectBody(body, rt, g.pol, defaultOut)
		var ref *refusal
		switch {
		case errors.As(err, &ref):
			rec.Refused = ref.what
			g.log.WarnContext(r.Context(), "llm request refused by the gateway policy", "api", rt.api, "path", rt.path, "refused", ref.what)
			refuse(rt.api, http.StatusBadRequest, ErrRefused, fmt.Sprintf("agentgate: this run's LLM gateway refuses %s: %s", ref.what, ref.why))
			return
		case err != nil:
			refuse(rt.api, http.StatusBadRequest, ErrBadBody, "agentgate: "+err.Error())
			return
		}
	}
	rec.Model = info.model
	var reserved int64
	if rt.tokens && g.budget > 0 {
		need := info.reservation(len(body), g.outReserve)
		ok, why := g.reserve(need)
		if !ok {
			refuse(rt.api, http.StatusTooManyRequests, ErrBudget, why)
			return
		}
		reserved = need
	}
	g.forward(w, r, rt, up, body, &rec)
	g.finish(r.Context(), rec, true, reserved)
}

// readBody reads the request body within the size bound and bodyTimeout.
// After a failed read the connection is closed after the answer, and the
// deadline stays, so the server does not wait for the rest of the body.
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(g.bodyTimeout)) // unsupported writers (tests) just have no deadline
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.maxBody))
	if err != nil {
		w.Header().Set("Connection", "close")
		return nil, err
	}
	_ = rc.SetReadDeadline(time.Time{})
	return body, nil
}

// forward sends the request upstream and streams the answer back,
// redacted, while reading its usage into rec.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, rt route, up *upstream, body []byte, rec *Request) {
	ctx := r.Context()
	u := *up.base
	u.Path += rt.path
	u.RawQuery = r.URL.RawQuery
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), rd)
	if err != nil {
		g.failUpstream(w, rt, rec, err)
		return
	}
	req.Header, rec.DroppedBetas = upstreamHeaders(r.Header, rt.api, up.key, g.pol)
	resp, err := g.client.Do(req)
	if err != nil {
		g.failUpstream(w, rt, rec, err)
		return
	}
	defer resp.Body.Close()
	if enc := resp.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		rec.Status, rec.Error = http.StatusBadGateway, ErrUpstreamEncoding
		writeError(w, rt.api, rec.Status, rec.Error, "agentgate: the upstream answered with a content encoding the gateway cannot inspect")
		return
	}
	copyResponseHeaders(w.Header(), resp.Header, g.redact.String)
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	rec.Stream = mediaType == "text/event-stream"
	rec.Status = resp.StatusCode
	w.WriteHeader(resp.StatusCode)

	t := &tally{}
	var parser io.Writer
	var sse *sseParser
	var buf *capBuffer
	if rec.Stream {
		sse = &sseParser{t: t}
		parser = sse
	} else {
		buf = &capBuffer{limit: maxParsedBody}
		parser = buf
	}
	rc := http.NewResponseController(w)
	out := g.redact.writer(deadlineWriter{w: w, rc: rc, timeout: g.writeTimeout})
	n, copyErr := g.pump(resp.Body, parser, out, rc, rec)
	if err := out.Close(); err != nil && copyErr == nil {
		copyErr = err
	}
	_ = rc.Flush()
	if sse != nil {
		_ = sse.Close()
	} else if !buf.over {
		t.addDoc(buf.buf)
	}
	if copyErr != nil {
		rec.Error = ErrUpstream
		g.log.WarnContext(ctx, "llm response cut short", "api", rt.api, "path", rt.path, "err", g.redact.String(copyErr.Error()))
	}
	if t.model != "" {
		rec.Model = t.model
	}
	rec.InputTokens, rec.OutputTokens = t.inputTokens(), t.output
	if rt.tokens && !t.seen && resp.StatusCode/100 == 2 {
		rec.InputTokens, rec.OutputTokens, rec.Estimated = int64(len(body)+3)/4, (n+3)/4, true
	}
	rec.CostUSD = Cost(g.prices, rec.Model, rec.InputTokens, rec.OutputTokens)
}

// pump copies the upstream body to the parser and the client, flushing
// after every chunk so streams are not held back. It returns the bytes
// read from the upstream.
func (g *Gateway) pump(src io.Reader, parser, dst io.Writer, rc *http.ResponseController, rec *Request) (int64, error) {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if n == 0 {
				rec.FirstByte = g.now().Sub(rec.Time)
			}
			n += int64(k)
			_, _ = parser.Write(buf[:k])
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, fmt.Errorf("write to client: %w", werr)
			}
			if rec.Stream {
				_ = rc.Flush()
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read upstream: %w", err)
		}
	}
}

// failUpstream answers 502 when the upstream could not be reached (or the
// client went away first, which nobody will read).
func (g *Gateway) failUpstream(w http.ResponseWriter, rt route, rec *Request, err error) {
	rec.Status, rec.Error = http.StatusBadGateway, ErrUpstream
	msg := fmt.Sprintf("agentgate: the %s upstream could not be reached", rt.api)
	if errors.Is(err, context.DeadlineExceeded) {
		msg = fmt.Sprintf("agentgate: the %s upstream did not answer in time", rt.api)
	}
	g.log.Warn("llm upstream unreachable", "api", rt.api, "path", rt.path, "err", g.redact.String(err.Error()))
	writeError(w, rt.api, rec.Status, rec.Error, msg)
}

// deadlineWriter bounds each write to the client, so a client that stops
// reading cannot hold the gateway forever.
type deadlineWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.w.Write(p)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
