package app

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
)

// opsSettings are the operational settings: logging and the database pool
// (appended to roleSettings()).
func opsSettings() []setting {
	return []setting{
		{key: "log-format", help: "log format: text or json (one JSON object a line, for a log pipeline)", apply: func(c *Config, v string) error {
			switch v {
			case "text", "json":
				c.LogFormat = v
				return nil
			}
			return fmt.Errorf("%q is not text or json", v)
		}},
		{key: "log-level", help: "lowest level logged: debug, info, warn or error", apply: func(c *Config, v string) error {
			if _, err := parseLevel(v); err != nil {
				return err
			}
			c.LogLevel = strings.ToLower(v)
			return nil
		}},
		{key: "database-pool-size", help: "most connections to Postgres this process opens (River's producer, notifier and workers, intake and the audit trail share them); 0 = the URL's pool_max_conns, else 20. SQLite always uses one", apply: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 10_000 {
				return fmt.Errorf("not a pool size (0-10000): %q", v)
			}
			c.DatabasePoolSize = n
			return nil
		}},
	}
}

// parseLevel reads a log level name.
func parseLevel(v string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", v)
	}
	return l, nil
}

// NewLogger is the logger the settings log-format and log-level ask for,
// writing to w. Every record of a run carries run_id (and delivery_id);
// every record of a delivery carries delivery.
func NewLogger(c Config, w io.Writer) *slog.Logger {
	level, err := parseLevel(c.LogLevel)
	if c.LogLevel == "" || err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
