#!/bin/sh
# The build stage of the Docker images, also run outside Docker by scripts/image-check.mjs:
# installs, builds, and lays out pruned production trees under OUT:
#   OUT/server  OUT/worker  (pnpm deploy --prod: package, dist, production node_modules)
#   OUT/migrations          (the SQL the server applies at start)
#   OUT/web                 (the built dashboard the server serves)
set -eu
out=${1:?usage: image-build.sh OUT}
pnpm install --frozen-lockfile
pnpm build
rm -rf "$out"
mkdir -p "$out"
pnpm --filter @syncengine/server deploy --prod --legacy "$out/server"
pnpm --filter @syncengine/worker deploy --prod --legacy "$out/worker"
cp -r migrations "$out/migrations"
cp -r apps/web/dist "$out/web"
