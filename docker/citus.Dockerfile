# syntax=docker/dockerfile:1
# Citus 12 on PostgreSQL 15 with the techmart extension (docs/scaling.md, citus-compose.yml).
#   docker build -f docker/citus.Dockerfile -t techmart-citus .   (context: the repository root)
ARG CITUS_IMAGE=citusdata/citus:12.1-pg15

FROM ${CITUS_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY docker/build-deps.txt /tmp/build-deps.txt
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

FROM ${CITUS_IMAGE} AS citus
COPY --from=build /out/usr/lib/postgresql/15/lib/ /usr/lib/postgresql/15/lib/
COPY --from=build /out/usr/share/postgresql/15/extension/ /usr/share/postgresql/15/extension/
