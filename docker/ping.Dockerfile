# syntax=docker/dockerfile:1.7
# The ping module: checks a deployment's module plumbing. On ECS it is the
# task definition oas-ping, container "ping"; the job comes in OAS_JOB.
#   docker build -f docker/ping.Dockerfile -t oas-ping .

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p oas-ping \
    && mkdir -p /out \
    && cp target/release/oas-ping /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/oas --create-home oas
COPY --from=build /out/oas-ping /usr/local/bin/oas-ping
USER 10001:10001
WORKDIR /var/lib/oas
ENV OAS_LOG_FORMAT=json
ENTRYPOINT ["oas-ping"]
