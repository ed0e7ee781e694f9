package app

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultDataDir(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		euid int
		want string
	}{
		{"XDG_STATE_HOME", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/home/u"}, 1000, "/s/agentgate"},
		{"XDG_STATE_HOME as root", map[string]string{"XDG_STATE_HOME": "/s"}, 0, "/s/agentgate"},
		{"relative XDG_STATE_HOME ignored", map[string]string{"XDG_STATE_HOME": "s", "HOME": "/home/u"}, 1000, "/home/u/.local/state/agentgate"},
		{"root", map[string]string{"HOME": "/root"}, 0, "/var/lib/agentgate"},
		{"user", map[string]string{"HOME": "/home/u"}, 1000, "/home/u/.local/state/agentgate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultDataDir(env(tt.env), tt.euid); got != tt.want {
				t.Errorf("defaultDataDir = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoadConfigResolvesPaths: every path setting is absolute after
// LoadConfig, against the working directory at start-up, and the database
// defaults to one in the data directory.
func TestLoadConfigResolvesPaths(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	if resolved, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = resolved
	}
	tests := []struct {
		name                  string
		args                  []string
		env                   map[string]string
		dataDir, db, auditKey string
	}{
		{"defaults", nil, map[string]string{"XDG_STATE_HOME": "/st"}, "/st/agentgate", "/st/agentgate/agentgate.db", "/st/agentgate/audit.key"},
		{"relative data dir", []string{"--data-dir", "d"}, nil, cwd + "/d", cwd + "/d/agentgate.db", cwd + "/d/audit.key"},
		{"relative database path", []string{"--data-dir", "/x", "--database-url", "q/a.db"}, nil, "/x", cwd + "/q/a.db", "/x/audit.key"},
		{"relative sqlite URL", []string{"--data-dir", "/x", "--database-url", "sqlite://a.db"}, nil, "/x", "sqlite://" + cwd + "/a.db", "/x/audit.key"},
		{"absolute sqlite URL", []string{"--data-dir", "/x", "--database-url", "sqlite:///db/a.db"}, nil, "/x", "sqlite:///db/a.db", "/x/audit.key"},
		{"postgres untouched", []string{"--data-dir", "/x", "--database-url", "postgres://u@h/db"}, nil, "/x", "postgres://u@h/db", "/x/audit.key"},
		{"relative audit key", []string{"--data-dir", "/x", "--audit-key-file", "k.pem"}, nil, "/x", "/x/agentgate.db", cwd + "/k.pem"},
		{"from the environment", nil, map[string]string{"AGENTGATE_DATA_DIR": "e"}, cwd + "/e", cwd + "/e/agentgate.db", cwd + "/e/audit.key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := LoadConfig("run", tt.args, env(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DataDir != tt.dataDir || cfg.DatabaseURL != tt.db || cfg.AuditKeyPath() != tt.auditKey {
				t.Errorf("data-dir %q, database-url %q, audit key %q; want %q, %q, %q", cfg.DataDir, cfg.DatabaseURL, cfg.AuditKeyPath(), tt.dataDir, tt.db, tt.auditKey)
			}
		})
	}
}

// TestMakeDirs: the database's directory and the data directory exist,
// mode 0700, before anything opens them; audit (data false) creates only
// the database's.
func TestMakeDirs(t *testing.T) {
	dir := t.TempDir()
	for _, data := range []bool{false, true} {
		cfg := Config{DataDir: filepath.Join(dir, "data"), DatabaseURL: "sqlite://" + filepath.Join(dir, "db", "sub", "a.db")}
		if err := cfg.MakeDirs(data); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "db", "sub"))
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("database directory: %v %v, want mode 0700", fi, err)
		}
		_, err = os.Stat(cfg.DataDir)
		if data != (err == nil) {
			t.Errorf("MakeDirs(%v): data directory exists = %v", data, err == nil)
		}
	}
	if err := (Config{DataDir: filepath.Join(dir, "pg"), DatabaseURL: "postgres://u@h/db"}).MakeDirs(false); err != nil {
		t.Errorf("postgres: %v", err)
	}
}
