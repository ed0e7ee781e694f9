// Package sandbox turns a task into a harvested change, and knows nothing
// about GitHub: the GitHub worker (package app) and `agentgate run` both
// use it.
//
// Sandbox.Execute runs named stages over one execution, each handing the
// next what it made:
//
//   - prepare: the run directory, from scratch, bounded in bytes and inodes;
//   - clone: the work tree (from the mirror cache or a shallow clone) with a
//     throwaway .git, the task file and the out directory;
//   - network: the run's relayed network (egress allowlist, LLM gateway),
//     canaries and a tripwire that stops the agent when a request carries
//     one of the run's secrets;
//   - setup: the agent's preset, the repository's setup phase in a sandbox
//     of its own, the instruction files and the baseline;
//   - agent: the agent in its container, its JSON lines as audit events,
//     and how it ended;
//   - harvest: the agent's change as files, checked (size, names, modes);
//   - judge: the change against the run's policy (RunPolicy: binary and
//     symlink changes, file and line caps, protected paths).
//
// What a stage sets up is released by a cleanup stack (last first, errors
// joined): what lives only as long as Execute (the network) when it
// returns, what the attempt holds (containers being removed, the work
// tree, the mount, the run directory) when Attempt.Close is called. A
// stage that ends the run sets the Attempt's Outcome; an error is
// agentgate's own failure, worth a retry.
//
// Sandbox.Verify runs a repository's verify command on a pushed commit in
// a fresh sandbox with no agent and no model access. Admission is a
// worker's CPU and memory budget for sandboxes; SweepRunDirs removes a
// worker's leftovers after a crash.
package sandbox
