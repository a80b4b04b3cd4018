#!/usr/bin/env bash
# Builds the fdk-go probe function: ./probe, from main.go against the fdk-go
# version pinned in go.mod/go.sum. Idempotent; needs only `go` (the Go module
# proxy on the first run, the module cache after). Prints what it did.
set -euo pipefail
cd "$(dirname "$0")"

command -v go >/dev/null || { echo "install.sh: go is not installed" >&2; exit 1; }

# go.sum pins the module's hash, so the checksum database is not consulted
# (it has no entry for fdk-go anyway). Never rewrite go.mod/go.sum, never
# fetch a newer toolchain, never stamp VCS data (the repo may be a bare copy).
export GOFLAGS="-mod=readonly -buildvcs=false"
export GOTOOLCHAIN=local

fdk_version=$(awk '$1 == "require" && $2 == "github.com/fnproject/fdk-go" { print $3 }' go.mod)
go mod download github.com/fnproject/fdk-go
go build -trimpath -o probe .
echo "go probe: built $(pwd)/probe with fdk-go ${fdk_version} ($(go env GOVERSION))"
