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

// TracingConfigured reports whether the standard OpenTelemetry variables
// ask for traces to be exported: OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and neither OTEL_SDK_DISABLED
// nor OTEL_TRACES_EXPORTER=none turns it off.
func TracingConfigured() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")) == "none" {
		return false
	}
	return strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != "" ||
		strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != ""
}

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
	if err := checkOTLPSettings(); err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", serviceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("tracing: resource: %w", err)
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

// checkOTLPSettings refuses exporters and protocols agentgate does not
// ship, naming the variable, rather than silently exporting nothing.
func checkOTLPSettings() error {
	if v := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); v != "" && v != "otlp" {
		return fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q is not supported (use otlp or none)", v)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		v := strings.TrimSpace(os.Getenv(name))
		if v == "" {
			continue
		}
		if v != "http/protobuf" {
			return fmt.Errorf("tracing: %s=%q is not supported (use http/protobuf)", name, v)
		}
		break
	}
	return nil
}
