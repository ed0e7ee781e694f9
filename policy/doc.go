// Package policy decides who may start a run and what a run may do.
//
// It holds the repository role ranks (authorize.go), and the model of the
// configuration file .github/agentgate.yml: its JSON Schema (schema.json,
// embedded), a hardened parser that reports problems with the file's line
// numbers (Parse, ConfigError), and the merge of a repository's file under
// its org's defaults (Merge), where a repository can only narrow what the
// org allows. The resolved settings (EffectiveConfig) carry a Hash that approvals
// bind to. Loading the files from GitHub and enforcing the settings is the
// app package's job.
package policy
