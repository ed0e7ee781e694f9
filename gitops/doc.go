// Package gitops holds everything agentgate does with git, on the host side
// of the sandbox, with go-git (the git CLI only reads blobs from a mirror,
// through `git cat-file --batch`, when it is installed):
//
//   - Clone: a shallow clone of one branch into a run directory, with the
//     repository (Root/repo.git) kept apart from the work tree (Root/work)
//     that the sandbox mounts;
//   - Mirrors: the same through a per-repository mirror cache that fetches
//     only what is new; as root the work tree is an overlay mount over a
//     checkout cached per commit tree (Workspace.Close unmounts it);
//   - PrepareSandbox: a throwaway repository at Root/work/.git for agents
//     that expect one (one commit of the base tree, nothing else);
//   - Harvest: the safe diff of the work tree against the base commit,
//     reading what the untrusted container wrote without following a
//     symlink or opening anything but regular files, within size bounds;
//   - Commit and Push: one commit on top of the base, pushed to an
//     agentgate/ branch with the run's token;
//   - BranchName and CommitMessage: names and messages that an issue title
//     cannot steer.
//
// The package knows nothing about GitHub.
package gitops
