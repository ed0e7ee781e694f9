package policy

import "fmt"

// ConfigError is a problem in a configuration file, located so that one
// comment on the issue can name it: Error() reads like
// `.github/agentgate.yml:7: limits.memory: "lots" is not a size`.
// Line and Column are 1-based; 0 when the problem has no single place
// (an empty File names no file).
type ConfigError struct {
	File    string
	Line    int
	Column  int
	Problem string // the setting's dotted path, a colon, and what is wrong
}

// Error implements error.
func (e *ConfigError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Problem)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, e.Problem)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Problem)
	}
	return e.Problem
}
