# syntax=docker/dockerfile:1
#
# Sealpost image: compiled JavaScript on Node 20, production dependencies only,
# running as the unprivileged `node` user. One image for every role; the command
# picks it: `start` (API and worker, the default), `serve`, `worker`, `migrate`,
# `tenant create ...`, `key create ...` (`sealpost` is on PATH).
#
# embedded-postgres brings its PostgreSQL binaries as optional per-platform
# packages; the image never uses them (compose sets DATABASE_URL).

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: all dependencies, TypeScript compiled to dist/src/** -------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime ------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
COPY openapi ./openapi
COPY wsdl ./wsdl
# Files the code reads at run time are found from the package root (src/paths.ts):
# a new directory read through projectPath() needs its COPY here (a test checks).

# Code and dependencies stay root-owned and read-only to the runtime user; only
# DATA_DIR is writable (it is unused when DATABASE_URL, SEALPOST_MASTER_KEY and
# SMTP_URL are all set, as they should be in a container).
RUN chmod 0755 bin/sealpost.js \
 && ln -s /app/bin/sealpost.js /usr/local/bin/sealpost \
 && mkdir -p /var/lib/sealpost \
 && chown node:node /var/lib/sealpost

# Listen on every interface: inside a container 127.0.0.1 (the default) is unreachable.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/sealpost

USER node
EXPOSE 8080

# Liveness over /healthz with node itself (slim images have no curl). HTTPS when
# TLS_CERT_FILE is set (any certificate accepted: this checks the process, not the
# PKI). With TLS_CLIENT_CA_FILE (mTLS) a client without a certificate cannot finish
# the handshake, so the check falls back to "the port accepts connections".
# Containers running `worker` or `migrate` have no HTTP port: disable the check
# there (docker-compose.yml does).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const port = Number(process.env.PORT || 8080); const fail = () => process.exit(1); if (process.env.TLS_CLIENT_CA_FILE) { require('node:net').connect(port, '127.0.0.1', () => process.exit(0)).on('error', fail); } else { const client = require(process.env.TLS_CERT_FILE ? 'node:https' : 'node:http'); const req = client.get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 4000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1)); req.on('timeout', () => req.destroy()); req.on('error', fail); }"]

CMD ["node", "dist/src/cli/main.js", "start"]
