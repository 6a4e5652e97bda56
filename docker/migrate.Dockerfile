# syntax=docker/dockerfile:1
# One-shot job: sqitch deploy, seed data once, credentials of the API role, admin account.
#   docker build -f docker/migrate.Dockerfile -t techmart-migrate .   (context: the repository root)
FROM debian:12-slim AS migrate
RUN apt-get update \
 && apt-get install -y --no-install-recommends sqitch libdbd-pg-perl postgresql-client-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --shell /usr/sbin/nologin techmart
COPY migrations/ /opt/techmart/migrations/
COPY data/*.csv data/load.sql /opt/techmart/data/
COPY docker/migrate.sh /opt/techmart/migrate.sh
USER techmart
ENTRYPOINT ["/opt/techmart/migrate.sh"]
