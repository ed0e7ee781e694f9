package agents

import (
	"slices"
)

// AgentsFile is the agent-neutral instruction file (agents.md) that every
// preset reads or is pointed at.
const AgentsFile = "AGENTS.md"

// instructionFiles are, per preset, the repository files the agent reads
// as instructions or configuration on its own, besides AGENTS.md. A path
// ending in "/" is a directory, taken as a whole. A follow-up run on an
// agent branch gets these from the default branch (see
// InstructionFiles), so nobody who can push to that branch can rewrite
// what the agent is told or how it is configured.
var instructionFiles = map[string][]string{
	// agentgate's own agent is told about AGENTS.md only.
	NameBuiltin: nil,
	// Codex CLI reads AGENTS.md and AGENTS.override.md along the path
	// from the repository root to the working directory.
	NameCodex: {"AGENTS.override.md"},
	// Claude Code reads CLAUDE.md (and the personal CLAUDE.local.md) as
	// memory and .claude/ for settings, hooks, commands and agents.
	NameClaudeCode: {"CLAUDE.md", "CLAUDE.local.md", ".claude/"},
	// Aider reads its configuration from the repository root and, by
	// convention, CONVENTIONS.md.
	NameAider: {"CONVENTIONS.md", ".aider.conf.yml", ".aider.model.settings.yml", ".aider.model.metadata.json", ".aiderignore"},
	// Other agents' files that wrappers and custom images commonly read.
	"": {".github/copilot-instructions.md", ".github/instructions/", ".cursorrules", ".cursor/rules/", "GEMINI.md", ".windsurfrules"},
}

// InstructionFiles lists the paths (slash-separated, relative to the
// repository root; "dir/" for a whole directory) that agentgate takes from
// the default branch before preset name's agent starts on another branch:
// AGENTS.md, the preset's own files and those of other common agents. A
// custom preset, and an unknown name, get every preset's files. The list
// is sorted and has no duplicates.
func InstructionFiles(name string) []string {
	out := []string{AgentsFile}
	out = append(out, instructionFiles[""]...)
	if own, ok := instructionFiles[name]; ok && name != "" && name != NameCustom {
		out = append(out, own...)
	} else {
		for _, files := range instructionFiles {
			out = append(out, files...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
