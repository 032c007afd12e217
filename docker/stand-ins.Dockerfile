# The outside services of a cloud deployment, for the stack of
# docker/compose.yaml on one machine, each built on the local base image
# (scripts/images.sh; nothing is pulled from a registry):
#   postgres  PostgreSQL 15, Debian's (RDS in the cloud)
#   s3        s3s-fs, an S3 server that checks signatures (S3); its binary
#             comes from the build context, CONTEXT/bin/s3s-fs
#   tools     moto (SQS), SecantusDB (MongoDB wire protocol; GPL, run as its
#             own process) and aiosmtpd (SMTP), from PyPI
#   docker build -f docker/stand-ins.Dockerfile --target postgres \
#     --build-arg BASE=oas-base:bookworm -t oas-stack-postgres CONTEXT

ARG BASE=debian:bookworm-slim

FROM ${BASE} AS postgres
# The server's user, made first with a fixed id (the package keeps it).
RUN groupadd --system --gid 10004 postgres \
    && useradd --system --uid 10004 --gid postgres --home-dir /var/lib/postgresql --create-home postgres \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
USER 10004:10004
# A cluster with the database oas owned by oas (password oas), reached by
# password from the stack's network.
RUN echo oas > /tmp/pw \
    && initdb --username=oas --pwfile=/tmp/pw --auth-local=trust --auth-host=scram-sha-256 \
    && rm /tmp/pw \
    && echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf" \
    && pg_ctl --wait --options="-c listen_addresses=''" start \
    && createdb --username=oas oas \
    && pg_ctl --wait stop
EXPOSE 5432
STOPSIGNAL SIGINT
HEALTHCHECK --interval=2s --timeout=5s --retries=30 CMD ["pg_isready", "--host=127.0.0.1", "--username=oas"]
CMD ["postgres", "-c", "listen_addresses=*"]

FROM ${BASE} AS s3
COPY bin/s3s-fs /usr/local/bin/s3s-fs
RUN useradd --system --uid 10002 --home-dir /data --create-home s3
USER 10002:10002
# The keys it checks signatures with come from S3_ACCESS_KEY and
# S3_SECRET_KEY (docker/compose.yaml).
ENV S3_BUCKET=oas
EXPOSE 9000
# The bucket is a folder of the served root.
ENTRYPOINT ["/bin/sh", "-c", "mkdir -p \"/data/$S3_BUCKET\" && exec s3s-fs --host 0.0.0.0 --port 9000 --access-key \"$S3_ACCESS_KEY\" --secret-key \"$S3_SECRET_KEY\" /data"]

FROM ${BASE} AS tools
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
# Each tool in a virtual environment of its own, at the versions the tests
# use; pip trusts the system's certificate authorities.
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /opt/moto \
    && /opt/moto/bin/pip install --no-cache-dir --disable-pip-version-check 'moto[server]>=5,<6' \
    && python3 -m venv /opt/smtp \
    && /opt/smtp/bin/pip install --no-cache-dir --disable-pip-version-check 'aiosmtpd>=1.4,<2' \
    && python3 -m venv /opt/secantus \
    && /opt/secantus/bin/pip install --no-cache-dir --disable-pip-version-check --pre 'SecantusDB==0.7.0b3' \
    && useradd --system --uid 10003 --home-dir /var/lib/tools --create-home tools
USER 10003:10003
WORKDIR /var/lib/tools
