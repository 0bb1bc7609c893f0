#!/usr/bin/env bash
# Runs the benchmarks whose figures the notes and docs/performance.md report.
set -euo pipefail
go test -run '^$' -bench . -benchtime 2s ./internal/... ./test/...
