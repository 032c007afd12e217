# syntax=docker/dockerfile:1.7
# A module's image: one binary, run once per job. On ECS it is the task
# definition oas-<module>, container "<module>"; the job comes in OAS_JOB
# (or `--input FILE`). MODULE is one of: uploads, importer,
# catalogue-matching, report, statement, ping.
#
# From source, where a Rust image can be pulled (the last stage, the default):
#   docker build -f docker/module.Dockerfile --build-arg MODULE=uploads -t oas-uploads .
# From binaries built on the host into CONTEXT/bin/ and a local base image
# (what `make images` does; see scripts/images.sh):
#   docker build -f docker/module.Dockerfile --target prebuilt \
#     --build-arg BASE=oas-base:bookworm --build-arg MODULE=uploads -t oas-uploads CONTEXT

ARG BASE=debian:bookworm-slim

# What every module image runs on: CA certificates, a user that is not root.
FROM ${BASE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && useradd --system --uid 10001 --home-dir /var/lib/oas --create-home oas
USER 10001:10001
WORKDIR /var/lib/oas
ENV OAS_LOG_FORMAT=json
# mimalloc asks for no transparent huge pages: the system would clear 2 MiB
# for each page an import first touches, however little of it is used
# (the local launcher sets the same, crates/platform/src/launcher/local.rs).
ENV MIMALLOC_ALLOW_THP=0
# Reports are cleaned and imported in a scratch folder: give the task
# ephemeral storage of at least twice the largest report.
ENV TMPDIR=/var/lib/oas
# The module stops on SIGTERM, reporting its run failed, within ECS's 30 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/module"]

# The module's binary built on the host: CONTEXT/bin/oas-<module>.
FROM runtime AS prebuilt
ARG MODULE=ping
COPY bin/oas-${MODULE} /usr/local/bin/module

FROM rust:1.95-bookworm AS build
ARG MODULE=ping
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p "oas-${MODULE}" \
    && mkdir -p /out \
    && cp "target/release/oas-${MODULE}" /out/module

FROM runtime AS source
COPY --from=build /out/module /usr/local/bin/module
