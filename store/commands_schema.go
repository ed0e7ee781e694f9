package store

// commandsMigration holds the tables of commands, follow-ups, installation
// tracking and the operator's switches. Its version leaves room for other
// steps merged from parallel work (versions are ids, applied in list order).
var commandsMigration = migration{
	version: 3,
	stmts: []string{
		`CREATE TABLE IF NOT EXISTS installations (
			installation_id BIGINT PRIMARY KEY,
			account         TEXT NOT NULL,
			state           TEXT NOT NULL,
			updated_at      TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS installation_repos (
			repo_id         BIGINT PRIMARY KEY,
			installation_id BIGINT NOT NULL,
			full_name       TEXT NOT NULL,
			state           TEXT NOT NULL,
			updated_at      TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS operator_settings (
			setting_key TEXT PRIMARY KEY,
			value       TEXT NOT NULL,
			updated_at  TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS replies (
			reply_key  TEXT PRIMARY KEY,
			created_at TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS feedback (
			pr_key     TEXT NOT NULL,
			item_key   TEXT NOT NULL,
			author     TEXT NOT NULL,
			body       TEXT NOT NULL,
			path       TEXT NOT NULL,
			line       BIGINT NOT NULL,
			created_at TEXT NOT NULL,
			run_id     TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (pr_key, item_key)
		)`,
		`CREATE INDEX IF NOT EXISTS runs_requester ON runs (requester, created_at)`,
	},
}
