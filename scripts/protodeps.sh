#!/usr/bin/env bash
# Copies third-party .proto sources out of pinned Go modules into .protodeps/,
# which buf.yaml lists as a module and .gitignore keeps out of the repository.
# The versions are pinned in tools/buf/go.mod (and checked against its go.sum).
set -euo pipefail
cd "$(dirname "$0")/.."
modfile=tools/buf/go.mod
mod=github.com/bufbuild/protovalidate
go mod download -modfile="$modfile" "$mod"
dir=$(go list -modfile="$modfile" -m -f '{{.Dir}}' "$mod")
rm -rf .protodeps
mkdir -p .protodeps/buf/validate
cp "$dir/proto/protovalidate/buf/validate/validate.proto" .protodeps/buf/validate/
chmod -R u+w .protodeps
