package runner

import "regexp"

// secretPattern matches credentials that must never reach the sandbox or
// leave it in the output: GitHub tokens, LLM API keys, AWS access keys,
// Slack tokens and PEM private keys.
var secretPattern = regexp.MustCompile(
	`gh[pousr]_[A-Za-z0-9]{36,}` +
		`|github_pat_[A-Za-z0-9_]{22,}` +
		`|sk-ant-[A-Za-z0-9_-]{20,}` +
		`|sk-(?:proj-)?[A-Za-z0-9_-]{32,}` +
		`|AKIA[0-9A-Z]{16}` +
		`|xox[abprs]-[A-Za-z0-9-]{10,}` +
		`|-----BEGIN [A-Z ]*PRIVATE KEY-----`)

// masked is what a secret is replaced with.
const masked = "[MASKED]"

// looksSecret reports whether s contains something shaped like a credential.
func looksSecret(s string) bool { return secretPattern.MatchString(s) }

// mask replaces every credential-shaped part of b.
func mask(b []byte) []byte {
	if !secretPattern.Match(b) {
		return b
	}
	return secretPattern.ReplaceAll(b, []byte(masked))
}
