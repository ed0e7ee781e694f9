package telemetry

import (
	"bytes"
	"net/http"
)

// InstrumentWebhook wraps the intake handler (POST /webhook) and counts
// each delivery by the answer it got, without touching the handler:
// 202 queued; 200 "duplicate delivery" duplicate; any other 2xx (a ping, an
// event that is no trigger) ignored; 401 unauthorized; 413 too_large;
// other 4xx bad_request; 5xx error. Requests to other paths are passed
// through uncounted.
func (m *Metrics) InstrumentWebhook(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/webhook" {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		m.Delivery(DeliveryResult(rec.status, rec.head))
	})
}

// DeliveryResult classifies an intake answer by its status code and the
// start of its body (see InstrumentWebhook).
func DeliveryResult(status int, body []byte) string {
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case status == http.StatusAccepted:
		return DeliveryQueued
	case status >= 200 && status < 300:
		if bytes.HasPrefix(body, []byte("duplicate")) {
			return DeliveryDuplicate
		}
		return DeliveryIgnored
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return DeliveryUnauthorized
	case status == http.StatusRequestEntityTooLarge:
		return DeliveryTooLarge
	case status >= 400 && status < 500:
		return DeliveryBadRequest
	}
	return DeliveryError
}

// headLen is how much of the answer's body statusRecorder keeps.
const headLen = 32

// statusRecorder remembers the status and the first bytes of the body.
type statusRecorder struct {
	http.ResponseWriter
	status int
	head   []byte
}

// WriteHeader implements http.ResponseWriter.
func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if room := headLen - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
