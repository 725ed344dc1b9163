# syntax=docker/dockerfile:1
# Production images for SyncEngine: `server` (API + dashboard) and `worker` (BullMQ).
# scripts/image-check.mjs runs the same build script and start commands outside Docker in CI.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0 CI=true
WORKDIR /src
RUN corepack enable
COPY . .
RUN sh scripts/image-build.sh /out

FROM ${NODE_IMAGE} AS runtime-base
ENV NODE_ENV=production \
    SYNCENGINE_MIGRATIONS_DIR=/app/migrations
WORKDIR /app
RUN mkdir -p /data /sync && chown node:node /data /sync
COPY --from=build --chown=node:node /out/migrations /app/migrations
USER node

FROM runtime-base AS server
ENV HOST=0.0.0.0 PORT=8080 SYNCENGINE_DATA_DIR=/data SYNCENGINE_WEB_DIST=/app/web
COPY --from=build --chown=node:node /out/server /app/server
COPY --from=build --chown=node:node /out/web /app/web
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/server/dist/main.js"]

FROM runtime-base AS worker
COPY --from=build --chown=node:node /out/worker /app/worker
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/worker/dist/healthcheck.js"]
STOPSIGNAL SIGTERM
CMD ["node", "/app/worker/dist/main.js"]
