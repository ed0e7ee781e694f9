package webhook

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// dbTimeout bounds the database work of one delivery, well inside the 10
// seconds GitHub waits for an answer.
const dbTimeout = 5 * time.Second

// maxDeliveryID is the longest X-GitHub-Delivery accepted (GitHub sends a
// 36-character GUID).
const maxDeliveryID = 128

// Inserter is what intake needs of River (*river.Client[*sql.Tx]
// satisfies it).
type Inserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Server is the intake HTTP server. Create it with New.
type Server struct {
	cfg      Config
	db       *sql.DB
	ins      Inserter
	log      *slog.Logger
	draining atomic.Bool
	bodies   *bodyBudget   // bytes of bodies in memory; see body.go
	bodyWait time.Duration // longest wait for the budget (budgetWait)
	detail   atomic.Pointer[func() string]
	batch    *batcher                 // nil when ins cannot insert many jobs at once
	secrets  atomic.Pointer[[][]byte] // the current webhook secret, then the previous one
}

// SetSecrets replaces the webhook secrets deliveries are verified with:
// current (required) and, during a rotation window, previous (nil when
// none). Deliveries in flight finish with the secrets they started with.
func (s *Server) SetSecrets(current, previous []byte) error {
	if len(current) == 0 {
		return errors.New("webhook: set secrets: the current secret is required")
	}
	secrets := [][]byte{bytes.Clone(current)}
	if len(previous) > 0 {
		secrets = append(secrets, bytes.Clone(previous))
	}
	s.secrets.Store(&secrets)
	return nil
}

// SetReadyDetail adds lines to the /readyz answer (e.g. whether the
// worker's upstreams are reachable). They inform; they do not change the
// status, so a model API's outage does not take intake out of rotation.
func (s *Server) SetReadyDetail(fn func() string) { s.detail.Store(&fn) }

// New returns an intake server. cfg.Secret is required; zero fields of cfg
// take the defaults. db is the database River's tables live in (the
// store's), ins inserts jobs in a transaction of db. A nil logger logs to
// slog.Default().
func New(cfg Config, db *sql.DB, ins Inserter, logger *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if db == nil || ins == nil {
		return nil, errors.New("webhook: new: database and inserter are required")
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{cfg: cfg, db: db, ins: ins, log: logger, bodies: newBodyBudget(cfg.MaxBody), bodyWait: budgetWait}
	if many, ok := ins.(ManyInserter); ok && !cfg.NoBatch {
		s.batch = &batcher{db: db, ins: many, single: s.enqueueOne}
	}
	if err := s.SetSecrets(cfg.Secret, cfg.PreviousSecret); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler serves POST /webhook, GET /healthz and GET /readyz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhook", s.serveWebhook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", s.serveReady)
	return mux
}

// Drain makes /readyz answer 503 from now on, so a load balancer stops
// sending deliveries before shutdown (SIGTERM). Deliveries that still
// arrive are served.
func (s *Server) Drain() { s.draining.Store(true) }

// serveReady answers 200 while the server takes deliveries and reaches the
// database, 503 otherwise.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		reply(w, http.StatusServiceUnavailable, "not ready: draining (shutting down)")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		s.log.WarnContext(ctx, "readyz: database unreachable", "err", err)
		reply(w, http.StatusServiceUnavailable, "not ready: database unreachable: "+strings.Join(strings.Fields(err.Error()), " "))
		return
	}
	msg := "ready"
	if fn := s.detail.Load(); fn != nil {
		if d := (*fn)(); d != "" {
			msg += "\n" + d
		}
	}
	reply(w, http.StatusOK, msg)
}

// serveWebhook is the intake of one delivery.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	log := s.log.With("event", event, "delivery", delivery, "remote", r.RemoteAddr)

	body, status, release := s.readBody(r)
	defer release()
	if status == http.StatusServiceUnavailable {
		log.WarnContext(r.Context(), "webhook: too many delivery bytes in flight")
		reply(w, status, "busy: try again later")
		return
	}
	if status != 0 {
		log.WarnContext(r.Context(), "webhook: body refused", "status", status, "content_length", r.ContentLength)
		msg := http.StatusText(status)
		if status == http.StatusBadRequest {
			msg = "body cut short"
		}
		reply(w, status, msg)
		return
	}
	if err := VerifyAny(*s.secrets.Load(), body, r.Header.Get("X-Hub-Signature-256")); err != nil {
		log.WarnContext(r.Context(), "webhook: signature refused", "err", err, "bytes", len(body))
		reply(w, http.StatusUnauthorized, "bad signature")
		return
	}
	if !validDeliveryID(delivery) || event == "" {
		log.WarnContext(r.Context(), "webhook: missing or malformed X-GitHub-Delivery or X-GitHub-Event")
		reply(w, http.StatusBadRequest, "missing or malformed X-GitHub-Delivery or X-GitHub-Event")
		return
	}
	if !json.Valid(body) {
		log.WarnContext(r.Context(), "webhook: malformed JSON", "bytes", len(body))
		reply(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	if event == "ping" {
		log.InfoContext(r.Context(), "webhook: ping")
		reply(w, http.StatusOK, "pong")
		return
	}
	routed, reason, err := Route(event, body, s.cfg)
	if err != nil {
		log.WarnContext(r.Context(), "webhook: malformed payload", "err", err)
		reply(w, http.StatusBadRequest, "malformed payload")
		return
	}
	if routed.Job != nil {
		s.serveJob(w, r, log, delivery, event, routed.Key, routed.Job)
		return
	}
	args := routed.Run
	if args == nil {
		log.DebugContext(r.Context(), "webhook: not a trigger", "reason", reason)
		reply(w, http.StatusOK, "ignored: "+reason)
		return
	}
	args.RunID = uuid.NewString()
	args.DeliveryID = delivery
	log = log.With("run_id", args.RunID, "repo", args.Owner+"/"+args.Repo, "issue", args.IssueNumber, "trigger", args.Trigger)

	release() // the job holds what it needs; the enqueue may wait for its commit
	fresh, err := s.enqueue(r.Context(), newQueued(*args, delivery, event, routed.Key))
	answerEnqueued(r.Context(), w, log, fresh, err, "run", struct {
		RunID string `json:"run_id"`
	}{args.RunID})
}

// answerEnqueued answers a delivery once its job's enqueue returned: 503
// when it failed (GitHub does not deliver it again by itself: `agentgate
// redeliver` asks it to, for every failed delivery), 200 for a delivery already
// queued, else 202 with body as JSON ("queued" as text when body is nil).
// what names the queued job in the log.
func answerEnqueued(ctx context.Context, w http.ResponseWriter, log *slog.Logger, fresh bool, err error, what string, body any) {
	switch {
	case err != nil:
		log.ErrorContext(ctx, "webhook: enqueue failed", "err", err)
		reply(w, http.StatusServiceUnavailable, "try again later")
	case !fresh:
		log.InfoContext(ctx, "webhook: duplicate delivery")
		reply(w, http.StatusOK, "duplicate delivery")
	default:
		log.InfoContext(ctx, "webhook: "+what+" queued")
		if body == nil {
			reply(w, http.StatusAccepted, "queued")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(body)
	}
}

// readBody reads at most MaxBody bytes of the request body within the
// shared body budget. A non-zero status means the body is refused: 413
// when it is larger (at once when its Content-Length says so), 400 when it
// was cut short or could not be read, 503 when the budget stayed full for
// the whole wait. release gives back the budget the body holds.
func (s *Server) readBody(r *http.Request) (body []byte, status int, release func()) {
	body, release, err := readBudgeted(r, s.bodies, s.cfg.MaxBody, s.bodyWait)
	switch {
	case errors.Is(err, errBusy):
		return nil, http.StatusServiceUnavailable, release
	case errors.Is(err, errTooLarge):
		return nil, http.StatusRequestEntityTooLarge, release
	case err != nil:
		return nil, http.StatusBadRequest, release
	}
	return body, 0, release
}

// enqueue records the delivery and inserts the job in one transaction,
// shared with concurrent deliveries when the inserter can batch. It
// returns false, with no job inserted, when the delivery was seen before.
// A comment is also recorded under its own id, so a signed body replayed
// with a new delivery id does not start a second run.
func (s *Server) enqueue(ctx context.Context, q queued) (bool, error) {
	if s.batch != nil {
		return s.batch.submit(ctx, q)
	}
	return s.enqueueOne(ctx, q)
}

// enqueueOne is enqueue in a transaction of its own.
func (s *Server) enqueueOne(ctx context.Context, q queued) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("webhook: enqueue: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if fresh, err := recordDelivery(ctx, tx, q); err != nil || !fresh {
		return false, err
	}
	if _, err := s.ins.InsertTx(ctx, tx, q.job, nil); err != nil {
		return false, fmt.Errorf("webhook: enqueue: insert job: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("webhook: enqueue: commit: %w", err)
	}
	return true, nil
}

// validDeliveryID accepts a non-empty, bounded, printable ASCII id.
func validDeliveryID(id string) bool {
	if id == "" || len(id) > maxDeliveryID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// reply writes a short plain-text answer.
func reply(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
