# syntax=docker/dockerfile:1
# The REST service techmart-api with the dashboard (web/dist) served at /.
#   docker build -f docker/api.Dockerfile -t techmart-api .       (context: the repository root)
#
# Stage "build" is the same as in db.Dockerfile (same commands as `./techmart up`); stage "web"
# builds the dashboard with npm, stage "docs" the API documentation; the final image has the
# binary, its shared libraries and the static files, and runs as an unprivileged user.

ARG PG_IMAGE=postgres:15-bookworm

FROM ${PG_IMAGE} AS build
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

FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package*.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# stage "docs": openapi.json and Swagger UI for GET /openapi.json and /docs, made by
# api/docs-ui/build.mjs from the binary's route table as the CMake target api-docs makes them for
# ./techmart up (the builder stage has no node, so its build has none: the image answered 404)
FROM node:20-bookworm-slim AS docs
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpistache0 libpqxx-6.4 libpq5 libjwt0 libssl3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /docs-ui
COPY api/docs-ui/package.json api/docs-ui/package-lock.json ./
RUN SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund
COPY api/docs-ui/build.mjs ./
COPY --from=build /out/usr/local/bin/techmart-api /usr/local/bin/techmart-api
RUN node build.mjs --api /usr/local/bin/techmart-api --out /docs --ui node_modules/swagger-ui-dist

FROM debian:12-slim AS api
LABEL org.opencontainers.image.title="techmart-api" \
      org.opencontainers.image.description="TechMart REST API (Pistache) and dashboard"
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpistache0 libpqxx-6.4 libpq5 libjwt0 libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin techmart
COPY --from=build /out/usr/local/bin/techmart-api /usr/local/bin/techmart-api
COPY --from=web /web/dist/ /srv/techmart/web/
COPY --from=docs /docs/ /srv/techmart/docs/
ENV TECHMART_API_ADDRESS=0.0.0.0 \
    TECHMART_API_PORT=8080 \
    TECHMART_STATIC_DIR=/srv/techmart/web \
    TECHMART_DOCS_DIR=/srv/techmart/docs \
    TECHMART_ENV=production
USER techmart
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=6 \
  CMD curl -fsS http://127.0.0.1:8080/health >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/techmart-api"]
