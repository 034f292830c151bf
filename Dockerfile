# swarmcast tracker: WebTorrent-protocol WebSocket tracker.
#   docker build -t swarmcast-tracker .
#   docker run --rm -p 8000:8000 -e SWARMCAST_TRACKER_SECRET=change-me swarmcast-tracker
# Every option is an env variable (SWARMCAST_TRACKER_*) or a flag after the image name;
# `docker run --rm swarmcast-tracker --help` lists them.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Runtime dependencies only, plus tsx (the lockfile's version, with its own dependencies) to run
# the TypeScript sources as they are: the tracker has no build step.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && TSX="tsx@$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
 && mkdir /tmp/tsx && cd /tmp/tsx && npm init -y >/dev/null \
 && npm install --ignore-scripts --no-audit --no-fund "$TSX" \
 && cp -rn /tmp/tsx/node_modules/. /app/node_modules/ && rm -rf /tmp/tsx

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    SWARMCAST_TRACKER_HOST=0.0.0.0 \
    SWARMCAST_TRACKER_PORT=8000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY shared ./shared
COPY tracker ./tracker
USER node
EXPOSE 8000
# /health answers 503 while draining, so orchestrators stop routing before sockets close.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.SWARMCAST_TRACKER_PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "tracker/bin/swarmcast-tracker.mjs"]
