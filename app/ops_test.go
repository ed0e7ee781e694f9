package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"
)

// TestSettingDefaultsMatchDefaultConfig: every default `-h` shows is a
// setting, and applying it to DefaultConfig changes nothing, so the help
// tells the truth.
func TestSettingDefaultsMatchDefaultConfig(t *testing.T) {
	byKey := map[string]setting{}
	for _, s := range append(settings(), roleSettings()...) {
		byKey[s.key] = s
	}
	for k, v := range settingDefaults {
		s, ok := byKey[k]
		if !ok {
			t.Errorf("default for %q, which is no setting", k)
			continue
		}
		if derivedDefaults[k] {
			continue
		}
		want := DefaultConfig()
		got := DefaultConfig()
		if err := s.apply(&got, v); err != nil {
			t.Errorf("%s: default %q does not apply: %v", k, v, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the shown default %q is not DefaultConfig's", k, v)
		}
	}
}

func TestHelpShowsDefaults(t *testing.T) {
	var out bytes.Buffer
	_, fs, err := LoadConfig("serve", []string{"-h"}, env(nil), nil)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	fs.SetOutput(&out)
	fs.PrintDefaults()
	for _, want := range []string{`(default "30m")`, `(default "2GiB")`, `(default ":8080")`, `(default "info")`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h lacks %s", want)
		}
	}
	// Showing a default does not set it: an unset setting stays unset.
	cfg, _, err := LoadConfig("serve", nil, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogFormat != "text" || cfg.DatabasePoolSize != 0 || cfg.AuditKeyFile != "" {
		t.Errorf("defaults: log-format %q, pool %d, audit-key-file %q", cfg.LogFormat, cfg.DatabasePoolSize, cfg.AuditKeyFile)
	}
}

func TestOpsSettings(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantErr string
		check   func(Config) bool
	}{
		{env: map[string]string{"AGENTGATE_LOG_FORMAT": "json", "AGENTGATE_LOG_LEVEL": "DEBUG", "AGENTGATE_DATABASE_POOL_SIZE": "40"},
			check: func(c Config) bool { return c.LogFormat == "json" && c.LogLevel == "debug" && c.DatabasePoolSize == 40 }},
		{env: map[string]string{"AGENTGATE_LOG_FORMAT": "xml"}, wantErr: "log-format"},
		{env: map[string]string{"AGENTGATE_LOG_LEVEL": "loud"}, wantErr: "log-level"},
		{env: map[string]string{"AGENTGATE_DATABASE_POOL_SIZE": "-1"}, wantErr: "database-pool-size"},
	}
	for _, tt := range tests {
		cfg, _, err := LoadConfig("serve", nil, env(tt.env), nil)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want one naming %s", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !tt.check(cfg) {
			t.Errorf("%v: cfg %+v err %v", tt.env, cfg, err)
		}
	}
}

// TestJSONLogsCarryRunAndDelivery: log-format json writes one object a
// line with the level honoured and the run's ids on a run's records.
func TestJSONLogsCarryRunAndDelivery(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(Config{LogFormat: "json", LogLevel: "warn"}, &buf)
	run := log.With("run_id", "r-1", "delivery", "d-1")
	run.Info("dropped: below warn")
	run.Warn("kept")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("lines = %q, want the warning only", lines)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if rec["run_id"] != "r-1" || rec["delivery"] != "d-1" || rec["level"] != "WARN" || rec["msg"] != "kept" {
		t.Errorf("record = %v", rec)
	}
}

func TestHealthReady(t *testing.T) {
	fail := errors.New("Cannot connect to the Docker daemon\nat unix:///var/run/docker.sock")
	tests := []struct {
		name     string
		checks   []healthCheck
		draining bool
		status   int
		want     []string
	}{
		{"all ok", []healthCheck{{"database", okCheck}, {"docker engine", okCheck}}, false, 200, []string{"ready", "ok database", "ok docker engine"}},
		{"engine down", []healthCheck{{"database", okCheck}, {"docker engine", func(context.Context) error { return fail }}}, false, 503,
			[]string{"not ready", "ok database", "FAIL docker engine: Cannot connect to the Docker daemon at unix:///var/run/docker.sock"}},
		{"draining", []healthCheck{{"database", okCheck}}, true, 503, []string{"not ready: draining"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &health{checks: tt.checks}
			h.draining.Store(tt.draining)
			mux := http.NewServeMux()
			h.mount(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("body %q lacks %q", rec.Body.String(), w)
				}
			}
		})
	}
}

func okCheck(context.Context) error { return nil }

func TestHealthLive(t *testing.T) {
	h := &health{alive: func() error { return errQueueStopped }}
	mux := http.NewServeMux()
	h.mount(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "queue client stopped") {
		t.Errorf("stopped queue: %d %q", rec.Code, rec.Body.String())
	}
	h.alive = func() error { return nil }
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Errorf("live: %d", rec.Code)
	}
}

func TestBuildInfoMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := BuildInfo{Version: "v1.2.3", Commit: "abc", Go: "go1", Schema: 4}
	if err := registerBuildInfo(reg, b); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "agentgate_build_info" {
		t.Fatalf("metrics = %v", mfs)
	}
	labels := map[string]string{}
	for _, l := range mfs[0].Metric[0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["version"] != "v1.2.3" || labels["commit"] != "abc" || labels["schema"] != "4" || mfs[0].Metric[0].Gauge.GetValue() != 1 {
		t.Errorf("labels = %v", labels)
	}
	if Build().Schema == 0 {
		t.Error("Build().Schema = 0")
	}
}

// TestJobVersionMiddleware: a job written by a newer binary is snoozed,
// not worked and not failed; the current and unversioned ones are worked.
func TestJobVersionMiddleware(t *testing.T) {
	m := &jobVersionMiddleware{log: NewLogger(Config{}, io.Discard)}
	tests := []struct {
		args       string
		wantWorked bool
	}{
		{`{"run_id":"a"}`, true},
		{`{"run_id":"a","v":1}`, true},
		{`{"run_id":"a","v":2}`, false},
	}
	for _, tt := range tests {
		worked := false
		err := m.Work(context.Background(), &rivertype.JobRow{Kind: "agentgate.run", EncodedArgs: []byte(tt.args)}, func(context.Context) error {
			worked = true
			return nil
		})
		if worked != tt.wantWorked {
			t.Errorf("%s: worked = %v", tt.args, worked)
		}
		var snooze *rivertype.JobSnoozeError
		if !tt.wantWorked && !errors.As(err, &snooze) {
			t.Errorf("%s: err = %v, want a snooze", tt.args, err)
		}
		if tt.wantWorked && err != nil {
			t.Errorf("%s: err = %v", tt.args, err)
		}
	}
}
