// Package stubagent builds agentgate/stub:dev, an image whose "agents"
// (codex, claude, aider and stubagent itself) only record how the sandbox
// started them: argv, environment, user, working directory, the mounts
// they can see and what arrived on standard input. Tests run every agent
// preset's command line in the real sandbox with it, to prove that the
// sandbox passes exactly the preset's command and environment and nothing
// else. The recorder is cmd/stubagent; Record is what it writes.
package stubagent
