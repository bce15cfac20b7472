# toolwire's everyday commands. `make help` lists them.
SHELL := /usr/bin/env bash
BUF := go tool -modfile=tools/buf/go.mod buf

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: protodeps
protodeps: ## Copy third-party .proto files out of pinned Go modules
	./scripts/protodeps.sh

.PHONY: generate
generate: protodeps ## Lint the protos and regenerate gen/
	$(BUF) lint proto
	$(BUF) generate

.PHONY: checkgenerate
checkgenerate: generate ## Fail if regenerating changes gen/
	@test -z "$$(git status --porcelain -- gen)" || { git status --porcelain -- gen; git diff --stat -- gen; echo "gen/ is stale: run make generate and commit"; exit 1; }

.PHONY: build
build: ## Build every binary into bin/
	go build -o bin/ ./cmd/...

.PHONY: test
test: ## Run every test: Go (race) and the TypeScript client interop test
	./scripts/test.sh

.PHONY: bench
bench: ## Compare toolwire with the reference MCP servers and rewrite BENCHMARKS.md's table (~5 min)
	./scripts/bench.sh

.PHONY: demo
demo: ## Run the demo stack in one process
	go run ./cmd/toolwire demo

.PHONY: interop
interop: ## Run only the MCP client interop test (TypeScript SDK, Inspector CLI), verbose
	npm ci --prefix test/interop --no-audit --no-fund --loglevel=error
	TOOLWIRE_REQUIRE_INTEROP=1 go test -count=1 -v -run TestInterop ./test/interop/

.PHONY: conformance
conformance: ## Run the official MCP conformance suites against the demo and print totals
	./scripts/conformance.sh
