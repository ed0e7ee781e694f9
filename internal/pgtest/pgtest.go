// Package pgtest gives tests a fresh Postgres database on the server named
// by AGENTGATE_TEST_POSTGRES_URL (.ci/postgres.sh starts one). Tests skip
// with a clear message when it is unset, but under CI (CI=true) it must be
// set: the Postgres mode is part of the product.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the test server's URL.
const EnvURL = "AGENTGATE_TEST_POSTGRES_URL"

// EnvData names the variable holding the test server's data directory.
const EnvData = "AGENTGATE_TEST_POSTGRES_DATA"

// ServerURL is the test server's URL, or skips (fails under CI=true) when
// none is configured.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s required under CI=true (eval \"$(.ci/postgres.sh)\")", EnvURL)
		}
		t.Skipf("Postgres tests need %s (eval \"$(.ci/postgres.sh)\" starts a server)", EnvURL)
	}
	return u
}

// NewDatabase creates an empty database on the test server and returns its
// URL; the database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: connect %s: %v", EnvURL, err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "agtest_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer func() { _ = c.Close(context.Background()) }()
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Restart restarts the test server (pg_ctl restart, as the postgres user),
// dropping every connection. It skips when AGENTGATE_TEST_POSTGRES_DATA is
// unset (fails under CI=true).
func Restart(t testing.TB) {
	t.Helper()
	data := os.Getenv(EnvData)
	if data == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s required under CI=true", EnvData)
		}
		t.Skipf("restarting Postgres needs %s (set by .ci/postgres.sh)", EnvData)
	}
	bin := "/usr/lib/postgresql/15/bin/pg_ctl"
	// -l: without a log file the server would inherit (and hold open) the
	// output pipe of pg_ctl.
	args := []string{"-D", data, "-l", data + "/server.log", "-m", "fast", "-w", "-t", "60", "restart"}
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pgtest: pg_ctl restart: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "server started") {
		t.Fatalf("pgtest: pg_ctl restart: %s", out)
	}
}
