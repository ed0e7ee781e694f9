package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	lognoop "go.opentelemetry.io/otel/log/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// logScope is the instrumentation scope of event log records.
const logScope = "github.com/agentgate/agentgate/telemetry"

// LogsConfigured reports whether the standard OpenTelemetry variables ask
// for log records to be exported: OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is set, and neither OTEL_SDK_DISABLED
// nor OTEL_LOGS_EXPORTER=none turns it off.
func LogsConfigured() bool { return logsSignal.configured() }

// SetupLogs installs the global OpenTelemetry logger provider that
// LogRecord emits to: batched over OTLP/HTTP (protobuf) when LogsConfigured,
// else a no-op provider, and nothing is ever sent. The exporter reads the
// other OTEL_EXPORTER_OTLP_* variables itself. shutdown flushes and stops
// it; call it once, on exit, with a deadline.
func SetupLogs(ctx context.Context, serviceName string) (shutdown func(context.Context) error, err error) {
	if !LogsConfigured() {
		otel.SetLoggerProvider(lognoop.NewLoggerProvider())
		return func(context.Context) error { return nil }, nil
	}
	if err := logsSignal.check(); err != nil {
		return nil, err
	}
	exp, err := otlploghttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("logs: otlp exporter: %w", err)
	}
	res, err := logsSignal.serviceResource(ctx, serviceName, exp.Shutdown)
	if err != nil {
		return nil, err
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithResource(res))
	otel.SetLoggerProvider(lp)
	return func(ctx context.Context) error {
		otel.SetLoggerProvider(lognoop.NewLoggerProvider())
		if err := lp.Shutdown(ctx); err != nil {
			return fmt.Errorf("logs: shutdown: %w", err)
		}
		return nil
	}, nil
}

// LogRecord is an Observer that emits the event as an OpenTelemetry log
// record: event name and body the kind, the event's time, severity WARN
// for refusals and failures (INFO otherwise), and the same attributes as
// its span event (EventAttributes). The context's span, when there is one,
// becomes the record's trace and span id. Pass events as stored (redacted).
func LogRecord(ctx context.Context, ev Event) {
	logger := otel.GetLoggerProvider().Logger(logScope)
	var rec otellog.Record
	rec.SetEventName(ev.Kind)
	rec.SetBody(attribute.StringValue(ev.Kind))
	rec.SetTimestamp(ev.Time)
	sev, text := otellog.SeverityInfo, "INFO"
	switch ev.Kind {
	case KindNetDenied, KindRunDenied, KindRunFailed, KindPolicyFlagged, KindLimitHit:
		sev, text = otellog.SeverityWarn, "WARN"
	}
	rec.SetSeverity(sev)
	rec.SetSeverityText(text)
	if !logger.Enabled(ctx, otellog.EnabledParameters{Severity: sev, EventName: ev.Kind}) {
		return
	}
	rec.AddAttributes(EventAttributes(ev)...)
	logger.Emit(ctx, rec)
}
