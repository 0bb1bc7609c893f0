# skiff: the two entry points are `make cluster` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
BIN := bin/skiff
DATA ?= /var/lib/skiff
PORT ?= 6443
STATICCHECK_VERSION := v0.8.2

.PHONY: all build images cluster stop test deps lint unit e2e bench clean

all: build

# LDFLAGS strips the symbol table and DWARF (116 MB -> 82 MB on disk). They are not loaded, so the resident
# memory is the same; `make build LDFLAGS=` keeps them for debuggers.
LDFLAGS ?= -s -w

build:
	$(GO) build -ldflags='$(LDFLAGS)' -o $(BIN) ./cmd/skiff

# images builds the node's images from the repo's own code (static pause and agnhost-like test app, plus Debian's
# busybox-static) as tarballs into DATA/images, the air-gap directory the kubelet imports at start.
images: build
	CGO_ENABLED=0 $(GO) build -ldflags='-s -w' -o bin/skiff-pause ./cmd/skiff-pause
	CGO_ENABLED=0 $(GO) build -ldflags='-s -w' -o bin/skiff-testapp ./cmd/skiff-testapp
	$(BIN) images build --pause-bin bin/skiff-pause --testapp-bin bin/skiff-testapp --out "$(DATA)/images"

# deps installs what the tests and the cluster need from Debian when it is missing.
deps:
	@./hack/deps.sh

# cluster builds skiff, starts a single-machine cluster in the background and shows it working.
cluster: deps build images
	@./hack/cluster.sh "$(DATA)" "$(PORT)"

stop:
	@if [ -f "$(DATA)/skiff.pid" ]; then kill "$$(cat $(DATA)/skiff.pid)" && rm -f "$(DATA)/skiff.pid"; fi

lint:
	@test -z "$$(gofmt -l cmd internal hack test 2>/dev/null)" || { echo "gofmt needed:"; gofmt -l cmd internal hack test; exit 1; }
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
