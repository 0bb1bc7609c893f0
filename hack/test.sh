#!/usr/bin/env bash
# Runs the whole test suite: unit and integration tests (race detector on the packages with concurrency)
# and the end-to-end tests that drive the real kubectl against `skiff server`.
set -euo pipefail
export SKIFF_BIN="$PWD/bin/skiff"
# The node tests leave skiff's nftables table behind (rules survive a server stop, as kube-proxy's do): remove it at the end.
trap '"$SKIFF_BIN" proxy --cleanup >/dev/null 2>&1 || true' EXIT
# Packages with concurrency run under the race detector; the rest without it (it is slow on 2 cores).
race=()
for d in storage apiserver auth controller scheduler bench sim kubelet proxy dns; do
  [ -d "internal/$d" ] && race+=("./internal/$d/...")
done
race_re=$(printf -- '-e /internal/%s ' storage apiserver auth controller scheduler bench sim kubelet proxy dns)
# shellcheck disable=SC2086
go test -count=1 -timeout 10m $(go list ./... | grep -v $race_re -e /test/)
go test -count=1 -race -timeout 10m "${race[@]}"
go test -count=1 -timeout 15m ./test/...
