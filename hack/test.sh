#!/usr/bin/env bash
# Runs the whole test suite: unit and integration tests (race detector on the packages with concurrency)
# and the end-to-end tests that drive the real kubectl against `skiff server`.
set -euo pipefail
export SKIFF_BIN="$PWD/bin/skiff"
RACE_PKGS="./internal/storage/... ./internal/apiserver/... ./internal/auth/... ./internal/bench/... ./internal/sim/..."
go test -count=1 -timeout 10m $(go list ./... | grep -v -e /internal/storage -e /internal/apiserver -e /internal/auth -e /internal/bench -e /internal/sim -e /test/)
go test -count=1 -race -timeout 10m $RACE_PKGS
go test -count=1 -timeout 10m ./test/...
