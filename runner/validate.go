package runner

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reservedEnv are set by the runner and may not be overridden.
var reservedEnv = map[string]bool{"AGENTGATE_TASK_FILE": true, "AGENTGATE_RUN_ID": true, "HOME": true}

// validate checks every field of spec that Convert relies on.
func validate(spec Spec) error {
	if err := checkID("run id", spec.RunID); err != nil {
		return err
	}
	if err := checkID("worker id", spec.WorkerID); err != nil {
		return err
	}
	if spec.Image == "" || strings.ContainsAny(spec.Image, " \t\r\n\x00") {
		return fmt.Errorf("image %q is not an image reference", spec.Image)
	}
	if err := checkHostPath("work tree", spec.WorkTree); err != nil {
		return err
	}
	if err := checkHostPath("task file", spec.TaskFile); err != nil {
		return err
	}
	if spec.OutDir != "" {
		if err := checkHostPath("out dir", spec.OutDir); err != nil {
			return err
		}
	}
	if spec.CAFile != "" {
		if err := checkHostPath("CA file", spec.CAFile); err != nil {
			return err
		}
	}
	for _, kv := range spec.CanaryEnv {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || !envKey.MatchString(k) || reservedEnv[k] || strings.ContainsRune(kv, 0) {
			return fmt.Errorf("canary env %q is not KEY=VALUE with a free key", k)
		}
		for _, e := range spec.Env {
			if strings.HasPrefix(e, k+"=") {
				return fmt.Errorf("canary env %s is also in env", k)
			}
		}
	}
	for dst, src := range spec.Files {
		if err := checkHostPath("file", src); err != nil {
			return err
		}
		if !strings.HasPrefix(dst, "/tmp/") || path.Clean(dst) != dst || strings.ContainsAny(dst, ",:\x00") {
			return fmt.Errorf("file %q: must be a clean path under /tmp", dst)
		}
	}
	switch spec.Runtime {
	case "", "runc", "runsc":
	default:
		return fmt.Errorf("runtime %q is not runc or runsc", spec.Runtime)
	}
	if spec.User != "" {
		if err := checkUser(spec.User); err != nil {
			return err
		}
	}
	for _, a := range spec.Cmd {
		if strings.ContainsRune(a, 0) {
			return errors.New("command contains a NUL byte")
		}
	}
	if spec.Network != nil {
		if err := validateNetwork(spec.Network, spec.Env); err != nil {
			return err
		}
	}
	if err := checkEnv(spec.Env); err != nil {
		return err
	}
	return checkSecretEnv(spec.SecretEnv, spec.Env)
}

// checkSecretEnv checks the setup secrets: well-formed, not the runner's
// own variables, not set twice or also in env. Their values are secret by
// definition, so no error repeats one.
func checkSecretEnv(secrets, env []string) error {
	seen := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		seen[k] = true
	}
	for _, kv := range secrets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !envKey.MatchString(k) {
			return errors.New("a secret env entry is not KEY=VALUE")
		}
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("secret env %s contains a NUL byte", k)
		}
		if reservedEnv[k] || seen[k] {
			return fmt.Errorf("secret env %s is set by the runner or twice", k)
		}
		seen[k] = true
	}
	return nil
}

func checkID(what, id string) error {
	if id == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(id) > 256 {
		return fmt.Errorf("%s is longer than 256 bytes", what)
	}
	for _, r := range id {
		if r < 0x21 || r == 0x7f {
			return fmt.Errorf("%s %q contains a blank or control character", what, id)
		}
	}
	return nil
}

// checkHostPath requires an absolute, clean path.
func checkHostPath(what, p string) error {
	if p == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%s %q is not absolute", what, p)
	}
	if filepath.Clean(p) != p {
		return fmt.Errorf("%s %q is not clean", what, p)
	}
	if strings.ContainsRune(p, 0) {
		return fmt.Errorf("%s contains a NUL byte", what)
	}
	return nil
}

// checkUser accepts a numeric "uid:gid" other than root. The gid is
// required: with a bare uid Docker would run the agent in group 0.
func checkUser(u string) error {
	uid, gid, ok := strings.Cut(u, ":")
	id, err := strconv.ParseUint(uid, 10, 31)
	if err != nil || !ok {
		return fmt.Errorf("user %q is not numeric uid:gid", u)
	}
	g, err := strconv.ParseUint(gid, 10, 31)
	if err != nil {
		return fmt.Errorf("user %q is not numeric uid:gid", u)
	}
	if id == 0 || g == 0 {
		return fmt.Errorf("user %q is root; the agent must run as a non-root uid and gid", u)
	}
	return nil
}

// checkEnv rejects malformed entries, duplicates, overrides of the runner's
// own variables, and values shaped like real credentials (the agent is only
// ever handed placeholders).
func checkEnv(env []string) error {
	seen := map[string]bool{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !envKey.MatchString(k) {
			return fmt.Errorf("env entry %q is not KEY=VALUE", redactEnv(kv))
		}
		if strings.ContainsRune(v, 0) {
			return fmt.Errorf("env %s contains a NUL byte", k)
		}
		if reservedEnv[k] {
			return fmt.Errorf("env %s is set by the runner", k)
		}
		if seen[k] {
			return fmt.Errorf("env %s is set twice", k)
		}
		seen[k] = true
		if looksSecret(v) {
			return fmt.Errorf("env %s holds what looks like a real credential; the sandbox gets placeholders only", k)
		}
	}
	return nil
}

// redactEnv shortens a malformed env entry for an error message without
// repeating a value that may be sensitive.
func redactEnv(kv string) string {
	if len(kv) > 32 {
		kv = kv[:32] + "..."
	}
	return string(mask([]byte(kv)))
}
