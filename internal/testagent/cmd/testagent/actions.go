package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/agentgate/agentgate/internal/testagent/directive"
)

// do performs one directive. Arguments were validated by the parser.
func do(w io.Writer, d directive.Directive) error {
	a := d.Args
	switch d.Verb {
	case "write":
		return writeFile(a[0], directive.Unescape(a[1]), os.O_TRUNC)
	case "append":
		return writeFile(a[0], directive.Unescape(a[1]), os.O_APPEND)
	case "writeenv":
		// text with each {} replaced by the variable's value: a file that
		// carries what the sandbox held (a canary) into the commit.
		return writeFile(a[0], strings.ReplaceAll(directive.Unescape(a[2]), "{}", os.Getenv(a[1])), os.O_TRUNC)
	case "delete":
		return os.RemoveAll(a[0])
	case "symlink":
		return os.Symlink(a[0], a[1])
	case "exit":
		code, _ := strconv.Atoi(a[0])
		return exitError{code}
	case "sleep":
		if a[0] == "forever" {
			sleepForever()
		}
		s, _ := strconv.ParseFloat(a[0], 64)
		time.Sleep(time.Duration(s * float64(time.Second)))
		return nil
	case "flood":
		n, _ := directive.ParseSize(a[0])
		return flood(w, n)
	case "forkbomb":
		return forkbomb(w)
	case "balloon":
		n, _ := directive.ParseSize(a[0])
		return balloon(w, n)
	case "filltmp":
		return filltmp(w)
	case "mkfifo":
		return syscall.Mkfifo(a[0], 0o644)
	case "files":
		n, _ := strconv.Atoi(a[0])
		return manyFiles(a[1], n)
	case "procs":
		return printProcs(w)
	case "env":
		for _, kv := range os.Environ() {
			fmt.Fprintln(w, kv)
		}
		return nil
	case "getenv":
		// One variable, on a line of its own: "NAME=value".
		_, err := fmt.Fprintf(w, "%s=%s\n", a[0], os.Getenv(a[0]))
		return err
	case "probe-net":
		return probeNet(w)
	case "connect":
		return probeConnect(w, a[0])
	case "lookup":
		return probeLookup(w, a[0])
	case "proxyget":
		return probeProxyGet(w, a[0])
	case "proxyleak":
		return probeProxyLeak(w, a[0], a[1])
	case "llm":
		return callLLM(w, a[0])
	case "id":
		return printID(w)
	case "summary":
		return writeSummary(directive.Unescape(a[0]) + "\n")
	case "json":
		_, err := fmt.Fprintln(w, a[0])
		return err
	}
	return fmt.Errorf("verb %q not implemented", d.Verb)
}

func writeFile(path, text string, mode int) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|mode, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// flood writes n bytes of 1 KiB lines to w as fast as it can.
func flood(w io.Writer, n int64) error {
	line := append(bytes.Repeat([]byte{'x'}, 1023), '\n')
	chunk := bytes.Repeat(line, 64)
	for n > 0 {
		b := chunk
		if int64(len(b)) > n {
			b = b[:n]
		}
		m, err := w.Write(b)
		if err != nil {
			return err
		}
		n -= int64(m)
	}
	return nil
}

// forkbomb starts sleeping processes until the kernel refuses, keeps
// pressing for a few seconds, then reports the refusal as its failure.
func forkbomb(w io.Writer) error {
	started := 0
	var firstFail time.Time
	var lastErr error
	for started < 100000 {
		cmd := childCommand()
		if err := cmd.Start(); err != nil {
			lastErr = err
			if firstFail.IsZero() {
				firstFail = time.Now()
			}
			if time.Since(firstFail) > 3*time.Second {
				break
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		started++
	}
	emitMsg(w, fmt.Sprintf("forkbomb: started %d processes", started))
	if lastErr != nil {
		return fmt.Errorf("fork refused after %d processes: %w", started, lastErr)
	}
	return nil
}

// childCommand is one single-threaded sleeping process when busybox is
// present, else this binary in its sleeping mode.
func childCommand() *exec.Cmd {
	if _, err := os.Stat("/bin/busybox"); err == nil {
		return exec.Command("/bin/busybox", "sleep", "3600")
	}
	self, _ := os.Executable()
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"=sleep")
	return cmd
}

// balloon allocates n bytes and touches every page of it.
func balloon(w io.Writer, n int64) error {
	const chunk = 1 << 20
	var keep [][]byte
	for done := int64(0); done < n; done += chunk {
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
	emitMsg(w, fmt.Sprintf("balloon: holding %d MiB", len(keep)))
	return nil
}

// filltmp writes /tmp full; the write that fails is the result.
func filltmp(w io.Writer) error {
	f, err := os.Create(filepath.Join(os.TempDir(), "agentgate-fill"))
	if err != nil {
		return err
	}
	defer f.Close()
	buf := bytes.Repeat([]byte{'f'}, 1<<20)
	var total int64
	for {
		n, err := f.Write(buf)
		total += int64(n)
		if err != nil {
			emitMsg(w, fmt.Sprintf("filltmp: wrote %d bytes", total))
			return err
		}
		if total > 64<<30 {
			return errors.New("filltmp: /tmp took 64 GiB without filling")
		}
	}
}

func manyFiles(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d", i)), []byte("x\n"), 0o644); err != nil {
			return fmt.Errorf("file %d: %w", i, err)
		}
	}
	return nil
}

// probeNet prints the network interfaces the agent sees, sorted as the
// kernel lists them, as "net interfaces=lo,eth0".
func probeNet(w io.Writer) error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	names := make([]string, 0, len(ifs))
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	_, err = fmt.Fprintf(w, "net interfaces=%s\n", strings.Join(names, ","))
	return err
}

// printID prints "id uid=.. gid=.. capeff=.." from /proc/self/status.
func printID(w io.Writer) error {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return err
	}
	defer f.Close()
	var uid, gid, capEff string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		switch k {
		case "Uid":
			uid = fields[0]
		case "Gid":
			gid = fields[0]
		case "CapEff":
			capEff = fields[0]
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "id uid=%s gid=%s capeff=%s\n", uid, gid, capEff)
	return err
}

func writeSummary(text string) error {
	return os.WriteFile(filepath.Join(envOr("AGENTGATE_OUT_DIR", defaultOutDir), "summary.md"), []byte(text), 0o644)
}

// defaultEdit is the edit made when the task holds no directive.
func defaultEdit(w io.Writer, task string) error {
	subject := sanitise(firstLine(task))
	line := "Touched by agentgate test agent for: " + subject + "\n"
	if err := writeFile("AGENTGATE_TEST.md", line, os.O_APPEND); err != nil {
		return err
	}
	emitMsg(w, "appended a line to AGENTGATE_TEST.md")
	if err := writeSummary("The agentgate test agent appended a line to `AGENTGATE_TEST.md` for: " + subject + "\n"); err != nil {
		emitMsg(w, "no summary written: "+err.Error())
	}
	return nil
}

// firstLine is the first non-blank line of the task.
func firstLine(task string) string {
	for _, l := range strings.Split(task, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// sanitise keeps letters, digits, spaces and simple punctuation of s, drops
// markdown heading marks, and caps it at 80 characters.
func sanitise(s string) string {
	s = strings.TrimLeft(s, "# ")
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == 80 {
			break
		}
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == ' ', strings.ContainsRune(".,:;-_()'!?/", r):
			b.WriteRune(r)
			n++
		}
	}
	if out := strings.TrimSpace(b.String()); out != "" {
		return out
	}
	return "(untitled task)"
}

// printProcs prints every process the sandbox can see, with its command
// line and environment, NUL separators shown as spaces.
func printProcs(w io.Writer) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range entries {
		pid := e.Name()
		if strings.Trim(pid, "0123456789") != "" {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
		env, _ := os.ReadFile("/proc/" + pid + "/environ")
		fmt.Fprintf(w, "proc %s cmd=%q env=%q\n", pid, strings.ReplaceAll(string(cmd), "\x00", " "), strings.ReplaceAll(string(env), "\x00", " "))
	}
	return nil
}
