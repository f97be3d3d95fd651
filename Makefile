# siokit's tasks. `make help` lists them; `make test` is what CI runs.
#
# The repository is a Go workspace (go.work): the `work` package pattern
# covers every module in it, so go test and go vet run from the root.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# golangci-lint v2, built from the Go module proxy into ./bin (gitignored).
GOLANGCI_LINT_VERSION := v2.15.0
BIN := $(CURDIR)/bin
GOLANGCI_LINT := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

# How long each fuzz target runs in `make test`; override with FUZZTIME=1m.
FUZZTIME ?= 5s
# Extra flags for the example server of `make run`, e.g. ARGS='-addr 127.0.0.1:8080'.
ARGS ?=

.PHONY: help deps test fuzz run lint bench microbench tidy-check cluster soak release-check

help: ## List the targets
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 14

deps: ## Install what the tests need (npm ci, Debian python3-socketio/aiohttp/redis/kombu/kafka/zmq/eventlet, redis-server, rabbitmq-server, nats-server, chromium); idempotent
	@scripts/deps.sh

test: deps ## Run every module's tests with -race, each fuzz target for FUZZTIME, then the release check
	@rc=0; \
	echo "go test -race -count=1 -timeout 20m work"; \
	go test -race -count=1 -timeout 20m work || rc=1; \
	scripts/fuzz.sh "$(FUZZTIME)" || rc=1; \
	echo "make release-check"; \
	$(MAKE) --no-print-directory release-check || rc=1; \
	if [[ $$rc != 0 ]]; then echo "test: FAILED (see above)"; fi; exit $$rc

release-check: ## Prove that outside modules can use the planned versions (module proxy from the tree, GOWORK=off)
	cd tools/release && GOWORK=off go test -count=1 ./... && GOWORK=off go run . check

fuzz: ## Run each fuzz target for FUZZTIME (default 5s)
	@scripts/fuzz.sh "$(FUZZTIME)"

run: ## Run the example server: examples/chat (after npm ci), else examples/engineio
	@scripts/deps.sh npm
	@if [[ -d examples/chat ]]; then \
		echo "go run ./examples/chat $(ARGS)"; go run ./examples/chat $(ARGS); \
	else \
		echo "go run ./examples/engineio $(ARGS)"; go run ./examples/engineio $(ARGS); \
	fi

cluster: ## Three servers on one Redis (ports 3001-3003) and a client showing a broadcast crossing them
	@scripts/deps.sh redis
	cd examples/cluster && go run .

# Flags for `make soak`, e.g. SOAK_ARGS='-duration 30s -clients 300'.
SOAK_ARGS ?=

soak: ## Soak test on loopback: 2,000 clients (some misbehaving) for 3 minutes, then leak and exactly-once checks
	go run ./soak $(SOAK_ARGS)

lint: $(GOLANGCI_LINT) ## gofmt, go vet and golangci-lint over every module (all run; fails if any fails)
	@rc=0; \
	echo "gofmt -l (tracked .go files)"; \
	out=$$(git ls-files -z -- '*.go' | xargs -0 -r gofmt -l); \
	if [[ -n "$$out" ]]; then echo "gofmt: these files need formatting:"; echo "$$out"; rc=1; fi; \
	echo "go vet work"; go vet work || rc=1; \
	for dir in $$(go list -m -f '{{.Dir}}'); do \
		echo "golangci-lint run ./... in $${dir#$(CURDIR)/}"; \
		(cd "$$dir" && $(GOLANGCI_LINT) run ./...) || rc=1; \
	done; \
	if [[ $$rc != 0 ]]; then echo "lint: FAILED"; else echo "lint: ok"; fi; exit $$rc

$(GOLANGCI_LINT):
	@echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(BIN)"
	@mkdir -p $(BIN)/.tmp
	GOWORK=off GOBIN=$(BIN)/.tmp go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@mv $(BIN)/.tmp/golangci-lint $@

# siobench flags for `make bench`, e.g. BENCH_ARGS='-rounds 7 -duration 20s -scenarios echo,room' (idle-50k is opt-in: go doc ./bench).
BENCH_ARGS ?=

bench: ## Compare siokit (siohttp, siofiber), the Node server and two raw WebSocket ceilings (one write per message, batched): interleaved rounds, a table of medians
	@scripts/deps.sh npm
	go build -o $(BIN)/siobench ./bench
	@if [[ $$(nproc) -ge 2 ]] && command -v taskset >/dev/null; then \
		echo "load generator pinned to CPU 0, servers to CPU 1"; \
		taskset -c 0 $(BIN)/siobench run -server-cpu 1 $(BENCH_ARGS); \
	else \
		$(BIN)/siobench run -server-cpu '' $(BENCH_ARGS); \
	fi

microbench: ## Run every go test benchmark once, with allocations
	go test -run '^$$' -bench . -benchmem work

tidy-check: ## go mod tidy in every module, then fail if a go.mod or go.sum changed
	@for dir in $$(go list -m -f '{{.Dir}}'); do \
		echo "go mod tidy in $${dir#$(CURDIR)/}"; (cd "$$dir" && go mod tidy); \
	done
	@changed=$$(git status --porcelain -- ':(glob)**/go.mod' ':(glob)**/go.sum'); \
	if [[ -n "$$changed" ]]; then echo "go mod tidy changed:"; echo "$$changed"; git diff -- ':(glob)**/go.mod' ':(glob)**/go.sum'; exit 1; fi; \
	echo "go.mod and go.sum are tidy"
