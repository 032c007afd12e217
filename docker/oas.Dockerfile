# syntax=docker/dockerfile:1.7
# The gateway. Build from the repository root:
#   docker build -f docker/oas.Dockerfile -t oas .
# The image also carries every module binary, so a single container can run
# module runs as local processes (OAS_LAUNCHER=local); on ECS each module
# runs from its own image instead.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p oas -p oas-ping \
    && mkdir -p /out \
    && cp target/release/oas target/release/oas-ping /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/oas --create-home oas
COPY --from=build /out/ /usr/local/bin/
USER 10001:10001
WORKDIR /var/lib/oas
ENV OAS_BIND=0.0.0.0:8000 \
    OAS_DATA_DIR=/var/lib/oas \
    OAS_LOG_FORMAT=json \
    OAS_MODULES_DIR=/usr/local/bin
EXPOSE 8000
ENTRYPOINT ["oas"]
CMD ["serve"]
