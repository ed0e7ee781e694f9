package policy

import (
	"fmt"
	"strings"
)

// rank orders GitHub's repository roles from least to most.
var rank = map[string]int{"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}

// ValidPermission reports whether p names a repository role agentgate knows.
func ValidPermission(p string) bool {
	_, ok := rank[p]
	return ok && p != "none"
}

// Effective returns the role a user holds from the collaborator permission
// endpoint's answer: role_name when GitHub gives a known one (it
// distinguishes maintain and triage), else the coarse permission.
func Effective(permission, roleName string) string {
	if _, ok := rank[roleName]; ok {
		return roleName
	}
	if _, ok := rank[permission]; ok {
		return permission
	}
	return "none"
}

// Allows reports whether a user holding role may trigger a run that needs min.
func Allows(role, min string) bool {
	r, ok := rank[role]
	if !ok {
		return false
	}
	m, ok := rank[min]
	if !ok {
		return false // an unknown minimum fails closed
	}
	return r >= m
}

// IsBot reports whether a GitHub account is a bot: agentgate's own
// comments and other apps' never start a run.
func IsBot(login, userType, appBot string) error {
	switch {
	case strings.EqualFold(userType, "Bot"):
		return fmt.Errorf("%s is a bot account", login)
	case strings.HasSuffix(strings.ToLower(login), "[bot]"):
		return fmt.Errorf("%s is a bot account", login)
	case appBot != "" && strings.EqualFold(login, appBot):
		return fmt.Errorf("%s is agentgate itself", login)
	}
	return nil
}
