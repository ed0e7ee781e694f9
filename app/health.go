package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/docker/client"
)

// healthTimeout bounds each readiness check.
const healthTimeout = 3 * time.Second

// healthCheck is one named readiness check.
type healthCheck struct {
	name  string
	check func(ctx context.Context) error
}

// health serves /healthz and /readyz on the metrics listener (every role)
// so that an orchestrator can probe a worker, which has no webhook
// listener. /healthz is liveness: the process serves HTTP and its queue
// client has not stopped on its own; it never checks dependencies, so an
// outage of the database or the engine does not restart every pod.
// /readyz runs every check and answers 200 with one "ok NAME" line each,
// or 503 naming each failing check and why.
type health struct {
	checks   []healthCheck
	draining atomic.Bool
	// alive, when set, is liveness beyond serving HTTP.
	alive func() error
}

// serverHealth is the health of s: the database for every role; the
// Docker engine, the queue client and the images runs need for a worker.
func (s *Server) serverHealth() *health {
	h := &health{}
	h.checks = append(h.checks, healthCheck{"database", func(ctx context.Context) error {
		return s.db.SQL.PingContext(ctx)
	}})
	if s.docker == nil {
		return h
	}
	h.checks = append(h.checks,
		healthCheck{"docker engine", func(ctx context.Context) error {
			_, err := s.docker.Ping(ctx)
			return err
		}},
		healthCheck{"queue", s.queueRunning},
		healthCheck{"images", func(ctx context.Context) error {
			return imagesPresent(ctx, s.docker, s.cfg)
		}},
	)
	h.alive = func() error { return s.queueStopped() }
	return h
}

// imagesPresent is the readiness check of the images runs need (the
// agent's and the relay's): it names each one the engine lacks.
func imagesPresent(ctx context.Context, cli client.APIClient, cfg Config) error {
	missing, err := missingImages(ctx, cli, cfg.pulledImages())
	if err != nil {
		return err
	}
	var names []string
	for _, n := range missing {
		if n.key != "agent-images" { // picked by repositories, reported by ensureImages
			names = append(names, n.image+" (setting "+n.key+")")
		}
	}
	if len(names) > 0 {
		return fmt.Errorf("missing image: %s", strings.Join(names, ", "))
	}
	return nil
}

// errQueueNotStarted and errQueueStopped are the queue's readiness states.
var (
	errQueueNotStarted = errors.New("the queue client has not started")
	errQueueStopped    = errors.New("the queue client stopped")
)

// queueRunning reports whether the worker's River client works jobs.
func (s *Server) queueRunning(context.Context) error {
	if !s.started.Load() {
		return errQueueNotStarted
	}
	return s.queueStopped()
}

// queueStopped is an error once the worker's River client has stopped.
func (s *Server) queueStopped() error {
	if s.queue == nil || s.queue.worker == nil || !s.started.Load() {
		return nil
	}
	select {
	case <-s.queue.worker.Stopped():
		return errQueueStopped
	default:
		return nil
	}
}

// mount adds GET /healthz and GET /readyz to mux.
func (h *health) mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", h.serveLive)
	mux.HandleFunc("GET /readyz", h.serveReady)
}

func (h *health) serveLive(w http.ResponseWriter, _ *http.Request) {
	if h.alive != nil {
		if err := h.alive(); err != nil {
			writeHealth(w, http.StatusServiceUnavailable, "not alive: "+err.Error()+"\n")
			return
		}
	}
	writeHealth(w, http.StatusOK, "ok\n")
}

func (h *health) serveReady(w http.ResponseWriter, r *http.Request) {
	status, body := h.ready(r.Context())
	writeHealth(w, status, body)
}

// ready runs every check at once and reports them in order.
func (h *health) ready(ctx context.Context) (int, string) {
	if h.draining.Load() {
		return http.StatusServiceUnavailable, "not ready: draining (shutting down)\n"
	}
	errs := make([]error, len(h.checks))
	var wg sync.WaitGroup
	for i, c := range h.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, healthTimeout)
			defer cancel()
			errs[i] = c.check(cctx)
		}()
	}
	wg.Wait()
	var b strings.Builder
	status := http.StatusOK
	for i, c := range h.checks {
		if errs[i] != nil {
			status = http.StatusServiceUnavailable
			fmt.Fprintf(&b, "FAIL %s: %s\n", c.name, oneLineErr(errs[i]))
			continue
		}
		fmt.Fprintf(&b, "ok %s\n", c.name)
	}
	if status != http.StatusOK {
		return status, "not ready\n" + b.String()
	}
	return status, "ready\n" + b.String()
}

// oneLineErr is err's message on one line, bounded.
func oneLineErr(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func writeHealth(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
