package testgh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// apiPrefix is where the API is mounted (GitHub Enterprise Server layout).
const apiPrefix = "/api/v3"

// maxBody bounds a request body.
const maxBody = 25 << 20

// rateLimit is the primary limit announced for every identity.
const rateLimit = 5000

// call is one routed, validated and authenticated request.
type call struct {
	s      *Server
	r      *http.Request // path stripped of /api/v3
	params map[string]string
	body   []byte
	token  *Token     // installation token; nil on app (JWT) calls
	repo   *repoState // the {owner}/{repo} of the path, when there is one
	// violation, when a handler sets it, records a request that GitHub
	// would accept but that no correct client sends.
	violation string
	// user is the login of a user token's call (oauth.go); userRole its role.
	user, userRole string
}

// outcome is what ServeHTTP writes and records.
type outcome struct {
	reply
	op        string
	identity  string
	headers   map[string]string
	violation string
	input     *openapi3filter.RequestValidationInput
	drop      bool // close the connection without an answer (FailNextN status 0)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out := s.serve(r)
	if out.drop {
		s.mu.Lock()
		s.st.requests = append(s.st.requests, RequestRecord{Method: r.Method, Path: r.URL.Path, Operation: out.op})
		s.mu.Unlock()
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // no hijacking: abort the response instead
	}
	payload, err := json.Marshal(out.body)
	if err != nil {
		out.reply = ghError(http.StatusInternalServerError, "testgh: encode: "+err.Error())
		payload, _ = json.Marshal(out.body)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Request-Id", strconv.FormatInt(time.Now().UnixNano(), 36))
	h.Set("Date", s.now().Format(http.TimeFormat)) // the stand-in's clock, as GitHub's is its own

	s.mu.Lock()
	s.rateHeaders(h, out.identity)
	for k, v := range out.headers {
		h.Set(k, v)
	}
	if out.violation != "" {
		s.violate(r, out.violation)
	}
	if s.opts.ValidateResponses && out.input != nil {
		if err := s.validateResponse(r, out, h, payload); err != nil {
			s.violate(r, "response does not match the description: "+err.Error())
		}
	}
	s.st.requests = append(s.st.requests, RequestRecord{Method: r.Method, Path: r.URL.Path, Operation: out.op, Status: out.status})
	s.mu.Unlock()

	s.log.Info("testgh", "method", r.Method, "path", r.URL.Path, "status", out.status)
	w.WriteHeader(out.status)
	_, _ = w.Write(payload)
}

// violate records a violation; caller holds mu.
func (s *Server) violate(r *http.Request, msg string) {
	v := r.Method + " " + r.URL.Path + ": " + msg
	s.st.violations = append(s.st.violations, v)
	s.log.Warn("testgh violation", "violation", v)
}

// rateHeaders sets GitHub's primary rate-limit headers; caller holds mu.
func (s *Server) rateHeaders(h http.Header, identity string) {
	if identity == "" {
		identity = "anonymous"
	}
	s.st.rate[identity]++
	used := s.st.rate[identity]
	reset := s.now().Truncate(time.Hour).Add(time.Hour)
	h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(rateLimit-used, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Resource", "core")
}

// serve routes, validates, authenticates and dispatches one request.
func (s *Server) serve(r *http.Request) outcome {
	if !strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
		return outcome{reply: notFound(), violation: "outside " + apiPrefix}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return outcome{reply: ghError(http.StatusBadRequest, "testgh: reading body: "+err.Error())}
	}
	if len(body) > maxBody {
		return outcome{reply: ghError(http.StatusRequestEntityTooLarge, "Request body too large"), violation: "body over 25 MiB"}
	}
	rr := r.Clone(r.Context())
	rr.URL.Path = strings.TrimPrefix(r.URL.Path, apiPrefix)
	rr.URL.RawPath = ""
	rr.Body = io.NopCloser(bytes.NewReader(body))

	route, params, err := s.spec.findRoute(rr)
	if err != nil {
		return outcome{reply: notFound(), violation: err.Error()}
	}
	op := route.Method + " " + route.Path
	out := outcome{op: op}
	if v := s.validateRequest(rr, route, params, body); v != nil {
		out.reply, out.violation = v.reply, v.violation
		return out
	}
	rr.Body = io.NopCloser(bytes.NewReader(body))
	out.input = &openapi3filter.RequestValidationInput{Request: rr, PathParams: params, Route: route}

	h, ok := handlers[op]
	if !ok {
		out.reply = ghError(http.StatusForbidden, "Resource not accessible by integration (testgh: "+op+" is not an operation agentgate may use)")
		out.violation = "operation not implemented by the stand-in: " + op
		return out
	}

	if d := s.takeDelay(r.Method, route.Path, rr.URL.Path); d > 0 {
		time.Sleep(d) // GitHub is slow; the request still takes effect
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &call{s: s, r: rr, params: params, body: body}
	if v := s.authorize(c, h, &out); v != nil {
		out.reply, out.violation = v.reply, v.violation
		return out
	}
	if f, ok := s.takeFailure(r.Method, route.Path, rr.URL.Path); ok {
		if f.drop {
			out.drop = true
			return out
		}
		out.reply = failureReply(f.status)
		out.headers = f.headers
		return out
	}
	out.reply = h.fn(c)
	out.headers = out.reply.headers
	out.violation = c.violation
	return out
}

// rejection is a reply that is also a violation.
type rejection struct {
	reply
	violation string
}

func reject(rep reply, why string) *rejection { return &rejection{rep, why} }

// validateRequest checks the request against the description.
func (s *Server) validateRequest(rr *http.Request, route *routers.Route, params map[string]string, body []byte) *rejection {
	if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
		return reject(ghError(http.StatusBadRequest, "Problems parsing JSON"), "body is not JSON")
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    rr,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(rr.Context(), in); err != nil {
		msg := oneLine(err)
		return reject(ghError(http.StatusUnprocessableEntity, "Invalid request.\n\n"+msg), "request does not match the description: "+msg)
	}
	return nil
}

// authorize checks the credential the handler needs; caller holds mu.
func (s *Server) authorize(c *call, h handler, out *outcome) *rejection {
	cred := bearer(c.r)
	if h.public {
		out.identity = "anonymous"
		return nil
	}
	if h.app {
		out.identity = "app"
		if cred == "" {
			return reject(ghError(http.StatusUnauthorized, "A JSON web token could not be decoded"), "app endpoint without a JWT")
		}
		if _, isToken := s.st.tokens[cred]; isToken {
			return reject(ghError(http.StatusUnauthorized, "A JSON web token could not be decoded"), "installation token used on an app endpoint")
		}
		if s.opts.AppPublicKey != nil {
			if err := verifyAppJWT(cred, s.opts.AppPublicKey, s.opts.AppID, s.now()); err != nil {
				return reject(ghError(http.StatusUnauthorized, err.Error()), "app JWT rejected: "+err.Error())
			}
		}
		return nil
	}
	if login, isUser := s.userFor(cred); isUser {
		return s.authorizeUser(c, login, out)
	}
	t, ok := s.liveToken(cred)
	if !ok {
		why := "no installation token"
		if cred != "" {
			why = "unknown or expired installation token"
		}
		return reject(badCredentials(), why)
	}
	c.token = t
	out.identity = "token:" + strconv.FormatInt(t.InstallationID, 10)
	if h.org {
		return s.authorizeOrg(c, t, h) // h_teams.go
	}
	rs, ok := s.st.repos[repoKey(c.params["owner"], c.params["repo"])]
	if !ok {
		return &rejection{reply: notFound()}
	}
	c.repo = rs
	if !s.tokenCovers(t, rs) {
		rep := notAccessible()
		if c.r.Method == http.MethodGet {
			rep = notFound()
		}
		return reject(rep, "installation token does not cover "+rs.repo.FullName())
	}
	if !grants(t.Permissions, h.perm, h.level) {
		return reject(notAccessible(), fmt.Sprintf("installation token lacks %s:%s", h.perm, h.level))
	}
	return nil
}

// validateResponse checks an answer against the description; caller holds mu.
func (s *Server) validateResponse(r *http.Request, out outcome, h http.Header, payload []byte) error {
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: out.input,
		Status:                 out.status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(payload)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: out.status < 300},
	}
	if err := openapi3filter.ValidateResponse(r.Context(), in); err != nil {
		return errors.New(oneLine(err))
	}
	return nil
}

// oneLine shortens a validation error to its first line and 300 bytes.
func oneLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg
}
