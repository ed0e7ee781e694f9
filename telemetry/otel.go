package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// otlpSignal is one OpenTelemetry signal's standard variables: its
// OTEL_<KIND>_EXPORTER and OTEL_EXPORTER_OTLP_<KIND>_* names, and the
// prefix of its errors.
type otlpSignal struct {
	kind  string // TRACES, LOGS
	label string // "tracing", "logs"
}

var (
	tracesSignal = otlpSignal{kind: "TRACES", label: "tracing"}
	logsSignal   = otlpSignal{kind: "LOGS", label: "logs"}
)

// configured reports whether the variables ask for the signal to be
// exported: OTEL_EXPORTER_OTLP_ENDPOINT or its own endpoint is set, and
// neither OTEL_SDK_DISABLED nor OTEL_<KIND>_EXPORTER=none turns it off.
func (s otlpSignal) configured() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if strings.TrimSpace(os.Getenv("OTEL_"+s.kind+"_EXPORTER")) == "none" {
		return false
	}
	return strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_"+s.kind+"_ENDPOINT")) != "" ||
		strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != ""
}

// check refuses settings the OTLP/HTTP exporter would not honour: an
// exporter other than otlp, a protocol other than http/protobuf (the
// signal's own protocol variable wins over the shared one).
func (s otlpSignal) check() error {
	if v := strings.TrimSpace(os.Getenv("OTEL_" + s.kind + "_EXPORTER")); v != "" && v != "otlp" {
		return fmt.Errorf("%s: OTEL_%s_EXPORTER=%q is not supported (use otlp or none)", s.label, s.kind, v)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_" + s.kind + "_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			continue
		}
		if v != "http/protobuf" {
			return fmt.Errorf("%s: %s=%q is not supported (use http/protobuf)", s.label, name, v)
		}
		break
	}
	return nil
}

// serviceResource describes this process: service.name serviceName unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise, and the
// SDK. shutdown stops the exporter when the resource cannot be made.
func (s otlpSignal) serviceResource(ctx context.Context, serviceName string, shutdown func(context.Context) error) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", serviceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		_ = shutdown(ctx)
		return nil, fmt.Errorf("%s: resource: %w", s.label, err)
	}
	return res, nil
}

// TracingConfigured reports whether the standard OpenTelemetry variables
// ask for traces to be exported: OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and neither OTEL_SDK_DISABLED
// nor OTEL_TRACES_EXPORTER=none turns it off.
func TracingConfigured() bool { return tracesSignal.configured() }

// SetupTracing installs the global OpenTelemetry tracer provider. When the
// standard OTLP variables are set (see TracingConfigured) spans are
// batched and exported over OTLP/HTTP (protobuf); the exporter reads the
// other OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression,
// certificates) itself. Otherwise a no-op provider is installed and
// nothing is ever sent. serviceName is the service.name resource
// attribute unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says
// otherwise. Traces of a run share one trace id derived from the run id
// (see RunTraceID).
//
// shutdown flushes the spans still buffered and stops the exporter; call
// it once, on exit, with a deadline.
func SetupTracing(ctx context.Context, serviceName string) (shutdown func(context.Context) error, err error) {
	if !TracingConfigured() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		return func(context.Context) error { return nil }, nil
	}
	if err := tracesSignal.check(); err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
	}
	res, err := tracesSignal.serviceResource(ctx, serviceName, exp.Shutdown)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(runIDGenerator{}),
	)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		var r Redactor // an endpoint URL may carry credentials
		slog.Warn("opentelemetry export", "err", r.String(err.Error()))
	}))
	otel.SetTracerProvider(tp)
	return func(ctx context.Context) error {
		otel.SetTracerProvider(noop.NewTracerProvider())
		if err := tp.Shutdown(ctx); err != nil {
			return fmt.Errorf("tracing: shutdown: %w", err)
		}
		return nil
	}, nil
}
