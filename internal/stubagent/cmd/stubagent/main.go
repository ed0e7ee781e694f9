// Command stubagent records how the sandbox started it. It is installed as
// codex, claude, aider and stubagent in agentgate/stub:dev (see package
// stubagent). Called as codex, claude or aider it is a contract stub: it
// first checks its command line and environment as that CLI at its pinned
// version does (an unknown flag exits 2, or 1 for claude as commander
// does; a missing CODEX_HOME, key or base URL exits 1 with the CLI's
// message) and, when the task holds stubagent.WriteDirective, calls the
// gateway with the CLI's request shape, writes the reply and prints the
// CLI's event stream; otherwise it exits 0. The record is printed as one line on standard
// output, prefixed by stubagent.StdoutPrefix, and written to
// stubagent.RecordFile when /agentgate/out is writable.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentgate/agentgate/internal/stubagent"
)

const (
	maxStdin = 64 << 10
	maxFiles = 200
)

func main() {
	rec := record()
	// When the task asks for work, the record goes first, so that the
	// tail of the output the sandbox keeps shows what the stub did;
	// otherwise last, where the tests that read it look.
	taskFile := os.Getenv("AGENTGATE_TASK_FILE")
	if taskFile == "" {
		taskFile = "/agentgate/task.md"
	}
	task, _ := os.ReadFile(taskFile)
	recordFirst := strings.Contains(string(task)+rec.Stdin, stubagent.WriteDirective)
	if recordFirst {
		printRecord(rec)
	}
	code := 0
	if contract, ok := contracts[filepath.Base(os.Args[0])]; ok {
		// The contract stub checks what the real CLI requires at its
		// pinned version and, on request, does its work.
		err := contract(&run{args: os.Args[1:], env: envMap(os.Environ()), stdin: rec.Stdin, out: os.Stdout, errOut: os.Stderr, uid: os.Getuid()})
		var ee exitError
		switch {
		case errors.As(err, &ee):
			if ee.msg != "" {
				fmt.Fprintln(os.Stderr, ee.msg)
			}
			code = ee.code
		case err != nil:
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if !recordFirst {
		printRecord(rec)
	}
	os.Exit(code)
}

// printRecord prints rec as one line and writes it to the record file.
func printRecord(rec stubagent.Record) {
	b, err := json.Marshal(rec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stubagent:", err)
		os.Exit(2)
	}
	fmt.Printf("%s%s\n", stubagent.StdoutPrefix, b)
	if err := os.WriteFile(stubagent.RecordFile, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "stubagent: record file:", err)
	}
}

func record() stubagent.Record {
	rec := stubagent.Record{Argv: os.Args, Env: os.Environ(), UID: os.Getuid(), GID: os.Getgid()}
	fail := func(what string, err error) { rec.Errors = append(rec.Errors, what+": "+err.Error()) }
	if g, err := os.Getgroups(); err != nil {
		fail("groups", err)
	} else {
		rec.Groups = g
	}
	if b, err := os.ReadFile("/proc/1/cmdline"); err != nil {
		fail("init", err)
	} else {
		rec.Init = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	if b, err := os.ReadFile("/proc/1/environ"); err != nil {
		fail("init environ", err)
	} else {
		rec.InitEnv = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	if wd, err := os.Getwd(); err != nil {
		fail("cwd", err)
	} else {
		rec.Cwd = wd
	}
	if m, err := mounts("/proc/self/mountinfo"); err != nil {
		fail("mounts", err)
	} else {
		rec.Mounts = m
	}
	if in, err := io.ReadAll(io.LimitReader(os.Stdin, maxStdin)); err != nil {
		fail("stdin", err)
	} else {
		rec.Stdin = string(in)
	}
	_ = filepath.WalkDir("/agentgate", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fail("walk", err)
			return nil
		}
		if d.Type().IsRegular() && len(rec.Files) < maxFiles {
			rec.Files = append(rec.Files, p)
		}
		return nil
	})
	return rec
}

// mounts reads mountinfo: "id parent major:minor root target options
// [optional...] - fstype source superoptions".
func mounts(path string) ([]stubagent.Mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []stubagent.Mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 6 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		out = append(out, stubagent.Mount{Target: unescape(fields[4]), Options: fields[5], FSType: fields[sep+1]})
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var n int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &n); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
