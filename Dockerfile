# Production images for SyncEngine: `server` (API + dashboard) and `worker` (BullMQ).
# scripts/image-check.mjs runs the same build script and start commands outside Docker, and
# deploy/stack.int.test.ts builds and runs these images with docker-compose.yml.
# Needs BuildKit (the default builder since Docker 23) for the cache mounts.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV CI=true
WORKDIR /src
# Extra CA certificates (PEM text) for networks that intercept TLS on the way to the npm
# registry; empty by default.
ARG EXTRA_CA_CERTS=""
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" >/usr/local/share/build-ca.pem; fi \
 && corepack enable
# The dependencies first: pnpm fetch needs only the lockfile, so a change to the sources
# reuses this layer, and the package store persists across builds in a cache mount.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=syncengine-pnpm-store,target=/root/.local/share/pnpm/store \
    if [ -s /usr/local/share/build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/usr/local/share/build-ca.pem; fi \
 && pnpm fetch --frozen-lockfile
COPY . .
RUN --mount=type=cache,id=syncengine-pnpm-store,target=/root/.local/share/pnpm/store \
    if [ -s /usr/local/share/build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/usr/local/share/build-ca.pem; fi \
 && sh scripts/image-build.sh /out

FROM ${NODE_IMAGE} AS runtime-base
# The entry point starts as root, makes sure PUID:PGID can write the data folder and the
# synced folders (SYNCENGINE_ALLOWED_ROOTS), or says what to run, then drops to PUID:PGID.
# Runs to a local folder fdatasync the files they wrote many at once before recording them;
# each call waits for a few writes and a disk cache flush, and calls in flight together
# overlap and share them. They run on libuv's thread pool: 64 threads rather than 4 (the pool
# is sized when a process starts, so it is set here).
ENV NODE_ENV=production \
    UV_THREADPOOL_SIZE=64 \
    SYNCENGINE_MIGRATIONS_DIR=/app/migrations \
    PUID=1000 \
    PGID=1000
WORKDIR /app
RUN mkdir -p /data /sync && chown node:node /data /sync
COPY scripts/image-entrypoint.sh /usr/local/bin/syncengine-entrypoint
COPY --from=build /out/migrations /app/migrations
ENTRYPOINT ["syncengine-entrypoint"]

FROM runtime-base AS server
ENV HOST=0.0.0.0 PORT=8080 SYNCENGINE_DATA_DIR=/data SYNCENGINE_WEB_DIST=/app/web
COPY --from=build /out/server /app/server
COPY --from=build /out/web /app/web
# `docker compose exec server syncengine-admin reset-password`
RUN printf '#!/bin/sh\nexec node /app/server/dist/admin.js "$@"\n' >/usr/local/bin/syncengine-admin \
 && chmod +x /usr/local/bin/syncengine-admin
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/server/dist/main.js"]

FROM runtime-base AS worker
# The worker records its own checks (Redis, Postgres, the allowed roots writable) in this
# file every few seconds; the health check reads it, so a hung event loop shows as stale.
ENV WORKER_HEALTH_FILE=/tmp/syncengine-worker-health.json
COPY --from=build /out/worker /app/worker
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/worker/dist/healthcheck.js"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/worker/dist/main.js"]
