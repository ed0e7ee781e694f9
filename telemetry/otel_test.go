package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is a local OTLP/HTTP trace and log receiver.
type otlpReceiver struct {
	srv *httptest.Server

	mu          sync.Mutex
	requests    int
	raw         [][]byte
	spans       []*tracepb.Span
	services    []string
	logRequests int
	logs        []*logspb.LogRecord
	logServices []string
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	rc := &otlpReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err == nil && r.URL.Path == "/v1/logs" && r.Method == http.MethodPost {
			rc.receiveLogs(w, b)
			return
		}
		if err != nil || r.URL.Path != "/v1/traces" || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.requests++
		rc.raw = append(rc.raw, b)
		for _, rs := range req.GetResourceSpans() {
			for _, a := range rs.GetResource().GetAttributes() {
				if a.GetKey() == "service.name" {
					rc.services = append(rc.services, a.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				rc.spans = append(rc.spans, ss.GetSpans()...)
			}
		}
		rc.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// receiveLogs takes one OTLP/HTTP logs export.
func (rc *otlpReceiver) receiveLogs(w http.ResponseWriter, b []byte) {
	var req collogspb.ExportLogsServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.logRequests++
	rc.raw = append(rc.raw, b)
	for _, rl := range req.GetResourceLogs() {
		for _, a := range rl.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				rc.logServices = append(rc.logServices, a.GetValue().GetStringValue())
			}
		}
		for _, sl := range rl.GetScopeLogs() {
			rc.logs = append(rc.logs, sl.GetLogRecords()...)
		}
	}
	rc.mu.Unlock()
	out, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// clearOTELEnv unsets every variable that could point the exporter
// elsewhere during a test.
func clearOTELEnv(t *testing.T) {
	for _, k := range []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_SERVICE_NAME",
		"OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
		"OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "OTEL_LOGS_EXPORTER",
	} {
		t.Setenv(k, "")
	}
}

// attrMap flattens OTLP attributes for assertions: strings as they are,
// ints as int64, bools as bool.
func attrMap(kvs []*commonpb.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = v.BoolValue
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = v.DoubleValue
		}
	}
	return m
}

// fakeRecorder stores events in memory, assigning Seq and Time.
type fakeRecorder struct {
	mu     sync.Mutex
	events []Event
	err    error
}

func (f *fakeRecorder) Append(_ context.Context, ev Event) (Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return Event{}, f.err
	}
	ev.Seq = int64(len(f.events) + 1)
	ev.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(ev.Seq) * time.Second)
	f.events = append(f.events, ev)
	return ev, nil
}

func TestTracingExportsRunSpans(t *testing.T) {
	clearOTELEnv(t)
	rc := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rc.srv.URL)

	ctx := context.Background()
	shutdown, err := SetupTracing(ctx, "agentgate-test")
	if err != nil {
		t.Fatal(err)
	}
	shutdownLogs, err := SetupLogs(ctx, "agentgate-test")
	if err != nil {
		t.Fatal(err)
	}
	const runID = "0b5e7c1a-3f4d-4e2a-9b8c-1d2e3f405162"
	const secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
	m := NewMetrics(nil)
	rec := Observe(&fakeRecorder{}, SpanEvent, LogRecord, m.Observer())

	runCtx, rt := StartRun(ctx, runID, RunAttrs{Repo: "octo/hello", Issue: 7, Trigger: "comment", Requester: "alice", Attempt: 1})
	rt = rt.WithMetrics(m)
	if !trace.SpanFromContext(runCtx).IsRecording() {
		t.Fatal("run span is not recording with an endpoint configured")
	}
	rt.RecordPhase(runCtx, PhaseIntake, time.Now().Add(-2*time.Second), time.Now(), nil)
	for _, phase := range []string{PhasePlan, PhaseClone, PhaseSandbox, PhaseHarvest, PhasePush, PhaseReview} {
		pctx, end := rt.Phase(runCtx, phase)
		var perr error
		switch phase {
		case PhaseSandbox:
			if _, err := rec.Append(pctx, Event{RunID: runID, Kind: KindNetDenied, Actor: "agent",
				Attrs: map[string]any{"host": "evil.example", "port": 443, "reason": "not allowlisted"}}); err != nil {
				t.Fatal(err)
			}
		case PhasePush:
			perr = errors.New("push: https://x-access-token:" + secret + "@github.com/octo/hello: rejected")
		}
		end(perr)
		end(nil) // a second end changes nothing
	}
	if _, err := rec.Append(runCtx, Event{RunID: runID, Kind: KindRunFinished, Actor: "agentgate",
		Attrs: map[string]any{"outcome": "succeeded"}}); err != nil {
		t.Fatal(err)
	}
	rt.Event(Event{RunID: runID, Seq: 9, Kind: KindPROpened, Actor: "agentgate", Attrs: map[string]any{"number": 12}})
	rt.End(nil)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if err := shutdownLogs(sctx); err != nil {
		t.Fatal(err)
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, b := range rc.raw {
		if bytes.Contains(b, []byte(secret)) {
			t.Error("an exported span holds the token")
		}
	}
	checkEventLogs(t, rc, runID)
	if len(rc.services) == 0 || rc.services[0] != "agentgate-test" {
		t.Errorf("service.name = %v, want agentgate-test", rc.services)
	}
	byName := map[string]*tracepb.Span{}
	for _, s := range rc.spans {
		if byName[s.GetName()] != nil {
			t.Errorf("span %q exported twice", s.GetName())
		}
		byName[s.GetName()] = s
	}
	root := byName["run"]
	if root == nil {
		t.Fatalf("no run span among %d spans", len(rc.spans))
	}
	wantTrace := RunTraceID(runID)
	if len(root.GetParentSpanId()) != 0 {
		t.Errorf("run span has a parent %x", root.GetParentSpanId())
	}
	ra := attrMap(root.GetAttributes())
	for k, want := range map[string]any{AttrRunID: runID, AttrRepo: "octo/hello", AttrIssue: int64(7),
		AttrOutcome: "succeeded", AttrTrigger: "comment", AttrRequester: "alice", AttrAttempt: int64(1)} {
		if ra[k] != want {
			t.Errorf("run span %s = %v, want %v", k, ra[k], want)
		}
	}
	var rootEvents []string
	for _, e := range root.GetEvents() {
		rootEvents = append(rootEvents, e.GetName())
	}
	if strings.Join(rootEvents, ",") != "run.finished,pr.opened" {
		t.Errorf("run span events = %v, want run.finished,pr.opened", rootEvents)
	}
	for _, phase := range Phases {
		s := byName[phase]
		if s == nil {
			t.Errorf("no %s span", phase)
			continue
		}
		if !bytes.Equal(s.GetTraceId(), wantTrace[:]) {
			t.Errorf("%s trace id %x, want %s", phase, s.GetTraceId(), wantTrace)
		}
		if !bytes.Equal(s.GetParentSpanId(), root.GetSpanId()) {
			t.Errorf("%s parent %x, want the run span %x", phase, s.GetParentSpanId(), root.GetSpanId())
		}
		a := attrMap(s.GetAttributes())
		if a[AttrPhase] != phase || a[AttrRunID] != runID {
			t.Errorf("%s attributes %v", phase, a)
		}
		wantErr := phase == PhasePush
		if got := s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR; got != wantErr {
			t.Errorf("%s error status = %v, want %v", phase, got, wantErr)
		}
	}
	if push := byName[PhasePush]; push != nil && !strings.Contains(push.GetStatus().GetMessage(), "REDACTED") {
		t.Errorf("push status message %q is not redacted", push.GetStatus().GetMessage())
	}
	if sb := byName[PhaseSandbox]; sb != nil {
		if len(sb.GetEvents()) != 1 || sb.GetEvents()[0].GetName() != KindNetDenied {
			t.Fatalf("sandbox span events = %v, want one net.denied", sb.GetEvents())
		}
		a := attrMap(sb.GetEvents()[0].GetAttributes())
		for k, want := range map[string]any{"host": "evil.example", "port": int64(443), "reason": "not allowlisted",
			AttrSeq: int64(1), AttrActor: "agent", AttrRunID: runID} {
			if a[k] != want {
				t.Errorf("net.denied %s = %v, want %v", k, a[k], want)
			}
		}
	}
	// The same phases were timed in the metrics.
	text := scrape(t, m)
	for _, phase := range Phases {
		if !strings.Contains(text, `agentgate_phase_duration_seconds_count{phase="`+phase+`"} 1`) {
			t.Errorf("phase %s not observed once in metrics", phase)
		}
	}
}

// checkEventLogs asserts that the run's appended events arrived as OTLP log
// records: event name, severity, attributes, and the trace and span of the
// phase they were appended in.
func checkEventLogs(t *testing.T, rc *otlpReceiver, runID string) {
	t.Helper()
	if len(rc.logServices) == 0 || rc.logServices[0] != "agentgate-test" {
		t.Errorf("log service.name = %v, want agentgate-test", rc.logServices)
	}
	var names []string
	byName := map[string]*logspb.LogRecord{}
	for _, l := range rc.logs {
		names = append(names, l.GetEventName())
		byName[l.GetEventName()] = l
	}
	if strings.Join(names, ",") != KindNetDenied+","+KindRunFinished {
		t.Fatalf("log records %v, want net.denied,run.finished (appended events only)", names)
	}
	wantTrace := RunTraceID(runID)
	denied := byName[KindNetDenied]
	if denied.GetSeverityNumber() != logspb.SeverityNumber_SEVERITY_NUMBER_WARN || denied.GetBody().GetStringValue() != KindNetDenied {
		t.Errorf("net.denied severity %v body %v", denied.GetSeverityNumber(), denied.GetBody())
	}
	if !bytes.Equal(denied.GetTraceId(), wantTrace[:]) || len(denied.GetSpanId()) != 8 {
		t.Errorf("net.denied trace %x span %x, want the run's trace %s", denied.GetTraceId(), denied.GetSpanId(), wantTrace)
	}
	if denied.GetTimeUnixNano() == 0 {
		t.Error("net.denied has no time")
	}
	a := attrMap(denied.GetAttributes())
	for k, want := range map[string]any{"host": "evil.example", "port": int64(443), "reason": "not allowlisted",
		AttrSeq: int64(1), AttrActor: "agent", AttrRunID: runID} {
		if a[k] != want {
			t.Errorf("net.denied log %s = %v, want %v", k, a[k], want)
		}
	}
	if fin := byName[KindRunFinished]; fin.GetSeverityNumber() != logspb.SeverityNumber_SEVERITY_NUMBER_INFO || attrMap(fin.GetAttributes())["outcome"] != "succeeded" {
		t.Errorf("run.finished log %v", fin)
	}
}

func TestTracingNotConfigured(t *testing.T) {
	clearOTELEnv(t)
	rc := newOTLPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-unused="+rc.srv.URL) // only an endpoint turns export on
	if TracingConfigured() {
		t.Fatal("TracingConfigured with no endpoint set")
	}
	ctx := context.Background()
	shutdown, err := SetupTracing(ctx, "agentgate-test")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, rt := StartRun(ctx, "r1", RunAttrs{Repo: "octo/hello"})
	if trace.SpanFromContext(runCtx).IsRecording() || rt.SpanContext().IsValid() {
		t.Error("run span records with tracing not configured")
	}
	pctx, end := rt.Phase(runCtx, PhaseClone)
	SpanEvent(pctx, Event{RunID: "r1", Kind: KindNetAllowed})
	rt.Event(Event{RunID: "r1", Kind: KindRunFinished})
	end(nil)
	rt.End(nil)
	shutdownLogs, err := SetupLogs(ctx, "agentgate-test")
	if err != nil {
		t.Fatal(err)
	}
	LogRecord(pctx, Event{RunID: "r1", Kind: KindNetDenied})
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := shutdownLogs(ctx); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.requests != 0 || rc.logRequests != 0 {
		t.Errorf("%d trace and %d log export requests with OTLP not configured", rc.requests, rc.logRequests)
	}
}

func TestTracingSettings(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		configured bool
		wantErr    string
	}{
		{name: "nothing set", env: nil},
		{name: "endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}, configured: true},
		{name: "traces endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces"}, configured: true},
		{name: "sdk disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "grpc refused", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			configured: true, wantErr: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "traces protocol wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, configured: true},
		{name: "console exporter refused", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_TRACES_EXPORTER": "console"},
			configured: true, wantErr: "OTEL_TRACES_EXPORTER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTELEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if got := TracingConfigured(); got != tt.configured {
				t.Errorf("TracingConfigured = %v, want %v", got, tt.configured)
			}
			shutdown, err := SetupTracing(context.Background(), "x")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = shutdown(ctx) // nothing was recorded, so nothing is sent to the closed port
		})
	}
}

func TestRunTraceID(t *testing.T) {
	tests := []struct {
		runID string
		want  string
	}{
		{"0b5e7c1a-3f4d-4e2a-9b8c-1d2e3f405162", "0b5e7c1a3f4d4e2a9b8c1d2e3f405162"},
		{"00000000-0000-0000-0000-000000000000", "00000000000000000000000000000001"},
		{"local-1", ""}, // hashed: only checked to be valid and stable
	}
	for _, tt := range tests {
		got := RunTraceID(tt.runID)
		if !got.IsValid() {
			t.Errorf("RunTraceID(%q) is not a valid trace id", tt.runID)
		}
		if tt.want != "" && got.String() != tt.want {
			t.Errorf("RunTraceID(%q) = %s, want %s", tt.runID, got, tt.want)
		}
		if RunTraceID(tt.runID) != got {
			t.Errorf("RunTraceID(%q) is not stable", tt.runID)
		}
	}
	if RunTraceID("local-1") == RunTraceID("local-2") {
		t.Error("two run ids share a trace id")
	}
}
