# syntax=docker/dockerfile:1
# PostgreSQL 15 with the techmart extension built in.
#   docker build -f docker/db.Dockerfile -t techmart-db .        (context: the repository root)
#
# Stage "build" runs the same CMake configure/build/install commands as `./techmart up`
# (see build() in ../techmart; docker/check.sh compares them). Only the installed extension files
# reach the final image: no compiler, no headers.

ARG PG_IMAGE=postgres:15-bookworm

FROM ${PG_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY docker/build-deps.txt /tmp/build-deps.txt
# postgresql-server-dev-15 comes from the same (PGDG) repository as the server of this image,
# so the module is built against exactly the server's headers.
RUN apt-get update \
 && grep -v '^#' /tmp/build-deps.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY extension/ extension/
COPY sql/ sql/
COPY api/ api/
COPY data/generator/ data/generator/
COPY tests/unit/ tests/unit/
# the commands of build() in ../techmart, with BUILD_DIR=/build
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build /build -j"$(nproc)" \
 && DESTDIR=/out cmake --install /build

FROM ${PG_IMAGE} AS db
LABEL org.opencontainers.image.title="techmart-db" \
      org.opencontainers.image.description="PostgreSQL 15 with the techmart fraud-scoring extension"
# the extension: module and SQL scripts (pg_config paths of this image)
COPY --from=build /out/usr/lib/postgresql/15/lib/ /usr/lib/postgresql/15/lib/
COPY --from=build /out/usr/share/postgresql/15/extension/ /usr/share/postgresql/15/extension/
# pgcrypto (used by the migrations) is part of this image's contrib modules.
# the techmart settings of ../techmart's cluster_init that matter in a container; techmart is
# preloaded for the cluster-wide scoring latency histogram (docs/operations.md)
RUN printf '%s\n' "timezone = 'UTC'" "shared_buffers = 256MB" "max_connections = 100" \
      "shared_preload_libraries = 'techmart'" \
      >> /usr/share/postgresql/postgresql.conf.sample
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=10 \
  CMD pg_isready -U "${POSTGRES_USER:-postgres}" -h 127.0.0.1 -p 5432 || exit 1
