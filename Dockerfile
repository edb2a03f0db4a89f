# syntax=docker/dockerfile:1
# Multi-stage: the build stage compiles TypeScript with the dev dependencies (and copies the Lua scripts into dist/,
# `npm run build`); the runtime stage installs the production dependencies only (`npm ci --omit=dev`), takes dist/
# from the build, and runs as the unprivileged `node` user.
#
# Node 26 is the Active LTS line since 2026-10-28 (26.13.0 'Lithium'; Node 24 went to Maintenance on 2026-10-20,
# Node 20 reached its end of life in April 2026). The tag is exact so that a rebuild gets the same Node; bump it (or
# pin its digest, node:26.13.0-bookworm-slim@sha256:…) deliberately.
ARG NODE_IMAGE=node:26.13.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed to compile (the anvil binary and esbuild are for tests and the demo).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    XMSG_HTTP_PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
# dist/ holds the compiled code and the Lua scripts beside it (src/**/lua/*.lua, loaded at start by src/store/scripts.ts).
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 3000
# /healthz answers while the process serves HTTP; /readyz also needs Redis and every worker started.
HEALTHCHECK --interval=15s --timeout=5s --start-period=45s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.XMSG_HTTP_PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains: followers stop between steps, workers finish their active jobs, then connections close.
STOPSIGNAL SIGTERM
# A 64 MB young-generation semi-space (Node's default is 16 MB): at high message rates ~8 % less CPU per message
# (fewer scavenges, fewer short-lived objects promoted); README "Operating model".
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
