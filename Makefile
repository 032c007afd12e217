# The verbs of the project. `make run` and `make test` are all a newcomer needs.
CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(HOME)/.cache/oas-target

.PHONY: run build test lint fmt clean images deploy-test bench

## run: build every binary and start OAS in embedded mode on 127.0.0.1:8000
run: build
	$(CARGO) run --quiet -p oas -- serve

## build: build the gateway and every module binary (modules are found beside `oas`)
build:
	$(CARGO) build --workspace --bins

## test: start the local stand-ins the tests need, run every test, stop them
test:
	scripts/test.sh

## lint: formatting, clippy with warnings as errors, Dockerfiles and Terraform
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	scripts/lint-deploy.sh

## bench: OAS against Python polars, alternating: clean + import of a generated 1M-line report, matching, the reports of 10M lines, the statements of 1,000 contracts over them, HTTP load (BENCH_LINES=N, BENCH_ROUNDS=N, REPORT_LINES=N, STATEMENT_CONTRACTS=N)
bench:
	scripts/bench.sh

## images: the gateway's and every module's image from release binaries built here, on a Debian base made here with debootstrap (no registry pull; starts the Docker Engine if needed)
images:
	$(CARGO) build --release --workspace --bins
	scripts/images.sh --profile release

## deploy-test: every image built, the stack of docker/compose.yaml started, the README's walk-through run against it with each module run a container, all torn down (DEPLOY_PROFILE=debug reuses `make test`'s binaries)
deploy-test:
	scripts/deploy-test.sh --profile $(or $(DEPLOY_PROFILE),release)

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
