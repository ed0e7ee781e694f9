package webhook

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults for Config.
const (
	DefaultMention = "@agentgate"
	DefaultLabel   = "agentgate"
	// DefaultEditWindow is the operator's edit-trigger-window default.
	DefaultEditWindow = 10 * time.Minute
	// DefaultMaxBody is GitHub's payload cap: 25 MiB.
	DefaultMaxBody int64 = 25 << 20
)

// Config is the operator's intake settings.
type Config struct {
	// Secret is the webhook secret; required (New refuses an empty one).
	Secret []byte
	// PreviousSecret, when set, is accepted beside Secret: the secret
	// GitHub signed with before a rotation, for the rotation window
	// (GitHub signs with one secret; the operator changes it in two
	// places). Server.SetSecrets replaces both while serving.
	PreviousSecret []byte
	// Mention starts a triggering comment; default "@agentgate". It is
	// matched ASCII case-insensitively and must be followed by whitespace
	// or the end of the comment.
	Mention string
	// Label triggers a run when added to an issue; default "agentgate".
	// GitHub label names are case-insensitive, and so is the match.
	Label string
	// EditWindow is how long after a comment on an issue was written an
	// edit that adds the mention still triggers (once); 0: edits never
	// trigger. The operator's setting defaults to DefaultEditWindow.
	EditWindow time.Duration
	// MaxBody is the largest body read, in bytes; default 25 MiB.
	MaxBody int64
	// NoBatch commits every delivery in a transaction of its own, even
	// when the inserter could share one among concurrent deliveries.
	NoBatch bool
}

// withDefaults fills the zero fields of c with the defaults.
func (c Config) withDefaults() Config {
	if c.Mention == "" {
		c.Mention = DefaultMention
	}
	if c.Label == "" {
		c.Label = DefaultLabel
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	return c
}

// validate reports settings intake cannot work with.
func (c Config) validate() error {
	if len(c.Secret) == 0 {
		return errors.New("webhook: config: secret is required")
	}
	if strings.ContainsFunc(c.Mention, isSpace) {
		return fmt.Errorf("webhook: config: mention %q contains whitespace", c.Mention)
	}
	return nil
}
