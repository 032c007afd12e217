# syntax=docker/dockerfile:1.7
# The gateway. Module runs start elsewhere: as ECS tasks (OAS_LAUNCHER=ecs)
# or containers (OAS_LAUNCHER=docker) from the module images; the ping
# module is carried too, so a single container can check itself with
# OAS_LAUNCHER=local.
#
# From source, where a Rust image can be pulled (the last stage, the default):
#   docker build -f docker/oas.Dockerfile -t oas .
# From binaries built on the host into CONTEXT/bin/ and a local base image
# (what `make images` does; see scripts/images.sh):
#   docker build -f docker/oas.Dockerfile --target prebuilt \
#     --build-arg BASE=oas-base:bookworm -t oas CONTEXT

ARG BASE=debian:bookworm-slim

FROM ${BASE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && useradd --system --uid 10001 --home-dir /var/lib/oas --create-home oas
USER 10001:10001
WORKDIR /var/lib/oas
ENV OAS_BIND=0.0.0.0:8000 \
    OAS_DATA_DIR=/var/lib/oas \
    OAS_LOG_FORMAT=json \
    OAS_MODULES_DIR=/usr/local/bin
EXPOSE 8000
# SIGTERM stops accepting connections and lets requests finish
# (OAS_SHUTDOWN_TIMEOUT).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["oas", "health"]
ENTRYPOINT ["oas"]
CMD ["serve"]

# The binaries built on the host: CONTEXT/bin/oas and CONTEXT/bin/oas-ping.
FROM runtime AS prebuilt
COPY bin/oas bin/oas-ping /usr/local/bin/

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p oas -p oas-ping \
    && mkdir -p /out \
    && cp target/release/oas target/release/oas-ping /out/

FROM runtime AS source
COPY --from=build /out/ /usr/local/bin/
