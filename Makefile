# skiff: the two entry points are `make cluster` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
BIN := bin/skiff
DATA ?= /var/lib/skiff
PORT ?= 6443
STATICCHECK_VERSION := v0.8.2

.PHONY: all build cluster stop test deps lint unit e2e bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/skiff

# deps installs what the tests and the cluster need from Debian when it is missing.
deps:
	@./hack/deps.sh

# cluster builds skiff, starts a single-machine cluster in the background and shows it working.
cluster: deps build
	@./hack/cluster.sh "$(DATA)" "$(PORT)"

stop:
	@if [ -f "$(DATA)/skiff.pid" ]; then kill "$$(cat $(DATA)/skiff.pid)" && rm -f "$(DATA)/skiff.pid"; fi

lint:
	@test -z "$$(gofmt -l cmd internal hack 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l cmd internal; exit 1; }
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

# test runs everything CI runs: lint, unit tests (race detector on the concurrent packages), end-to-end tests.
test: deps lint build
	./hack/test.sh

bench: build
	./hack/bench.sh

clean:
	rm -rf bin
