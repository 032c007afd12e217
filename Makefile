# The verbs of the project. `make run` and `make test` are all a newcomer needs.
CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(HOME)/.cache/oas-target

.PHONY: run build test lint fmt clean docker bench

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

## docker: the images of the gateway and of each module
docker:
	docker build -f docker/oas.Dockerfile -t oas:latest .
	for module in uploads importer catalogue-matching report statement ping; do \
		docker build -f docker/module.Dockerfile --build-arg MODULE=$$module -t oas-$$module:latest . || exit 1; \
	done

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
