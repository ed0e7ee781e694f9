package imagebuild

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Self is a Spec.Prebuilt: this process's executable (an installed
// agentgate puts itself into the built-in agent's image).
func Self() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("this executable: %w", err)
	}
	return filepath.EvalSymlinks(exe)
}

// Sibling returns a Spec.Prebuilt: the executable called name in the
// directory of this process's executable (go install puts agentgate and
// agentgate-relay side by side).
func Sibling(name string) func() (string, error) {
	return func() (string, error) {
		self, err := Self()
		if err != nil {
			return "", err
		}
		return filepath.Join(filepath.Dir(self), name), nil
	}
}

// prebuiltBinary reads spec.Prebuilt's binary after checking that it can
// run in a FROM scratch image on this engine: a statically linked Linux
// executable for this architecture.
func prebuiltBinary(spec Spec) ([]byte, error) {
	path, err := spec.Prebuilt()
	if err != nil {
		return nil, fmt.Errorf("%s binary: %w", spec.Name, err)
	}
	if err := checkStatic(path); err != nil {
		return nil, fmt.Errorf("%s binary: %w", spec.Name, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s binary: %w", spec.Name, err)
	}
	return b, nil
}

// elfMachine is the ELF machine of each GOARCH a prebuilt binary may be.
var elfMachine = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM,
	"riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390,
}

// checkStatic fails unless path is a Linux ELF executable for
// runtime.GOARCH without a program interpreter (statically linked, as
// CGO_ENABLED=0 builds it).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not a Linux executable: %w", path, err)
	}
	defer f.Close()
	if want, ok := elfMachine[runtime.GOARCH]; !ok || f.Machine != want {
		return fmt.Errorf("%s: built for %s, not %s", path, f.Machine, runtime.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; an image FROM scratch needs a static one: build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}
