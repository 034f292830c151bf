# swarmcast tracker: WebTorrent-protocol WebSocket tracker.
#   docker build -t swarmcast-tracker .
#   docker run --rm -p 8000:8000 -e SWARMCAST_TRACKER_SECRET=change-me swarmcast-tracker
# Every option is an env variable (SWARMCAST_TRACKER_*) or a flag after the image name;
# `docker run --rm swarmcast-tracker --help` lists them.
#
# The image holds what users of the swarmcast-tracker package get: the packed tarball (compiled
# JavaScript) installed into an empty project, its dependencies pinned to the versions the
# repository's lockfile tests (devkit/pinned-lockfile.mjs).

FROM node:20-bookworm-slim AS pack
WORKDIR /repo
COPY . .
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm run build:tracker \
 && npm pack -w tracker --pack-destination /pack \
 && node devkit/pinned-lockfile.mjs swarmcast-tracker > /pack/package-lock.json

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    SWARMCAST_TRACKER_HOST=0.0.0.0 \
    SWARMCAST_TRACKER_PORT=8000
WORKDIR /app
COPY --from=pack /pack/ ./pack/
# Install steps: tests/release/pack.test.ts runs this RUN line as it is, on the same tarball.
RUN cp pack/package-lock.json . \
 && npm init -y >/dev/null \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund ./pack/swarmcast-tracker-*.tgz \
 && rm -r pack
USER node
EXPOSE 8000
# /health answers 503 while draining, so orchestrators stop routing before sockets close.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.SWARMCAST_TRACKER_PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
ENTRYPOINT ["node_modules/.bin/swarmcast-tracker"]
