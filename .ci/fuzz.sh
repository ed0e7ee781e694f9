#!/usr/bin/env bash
# Runs every native Go fuzz target for a short, bounded time (FUZZTIME,
# default 10s each; about 2 minutes in all plus builds). A crasher makes
# this fail; `go test` has then written it to pkg/testdata/fuzz/FuzzX/,
# where it becomes a regression input of the plain `go test` run: commit it
# together with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
fuzztime=${FUZZTIME:-10s}
# Fewer workers than cores leave room for the rest of CI on small machines.
parallel=${FUZZ_PARALLEL:-2}

targets=(
  "./webhook FuzzVerify"
  "./webhook FuzzParseTrigger"
  "./webhook FuzzParseMention"
  "./webhook FuzzParseCommand"
  "./webhook FuzzWebhookRouting"
  "./gitops FuzzBranchName"
  "./gitops FuzzCommitMessage"
  "./gitops FuzzOneLine"
  "./gitops FuzzHarvest"
  "./policy FuzzParse"
  "./runner/egress FuzzProxyRequest"
  "./telemetry FuzzMarkdown"
  "./app/tasktext FuzzSanitize"
)

failed=()
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "== fuzz $pkg $name ($fuzztime)"
  if ! go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel "$parallel"; then
    failed+=("$pkg $name")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: failures (inputs saved under testdata/fuzz/):"
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
echo "== fuzz: all ${#targets[@]} targets clean"
