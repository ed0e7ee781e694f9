#!/bin/sh
# Builds the agentgate service image (deploy/Dockerfile) from a static
# binary built on this machine. Usage: deploy/build.sh [TAG]
set -eu
tag=${1:-agentgate:dev}
root=$(cd "$(dirname "$0")/.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
(cd "$root" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/agentgate/agentgate/app.Commit=$commit" -o "$ctx/agentgate" ./cmd/agentgate)
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
cp "$root/deploy/Dockerfile" "$ctx/"
docker build -t "$tag" "$ctx"
