# syntax=docker/dockerfile:1
# Reference image for Portcullis: TypeScript run through tsx (no build step), production dependencies only,
# a non-root user, and /data for the SQLite file (single node) and the breached-password indexes.
# See docs/deploy.md. Build from the repository root:  docker build -t portcullis .

ARG NODE_IMAGE=node:20-bookworm-slim

# --- dependencies -------------------------------------------------------------------------------------------
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded, so this stage has a toolchain;
# the final image does not.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# tsx, typescript and esbuild are runtime dependencies (the sources and web/ are compiled at start).
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PORT=3000 \
    PORTCULLIS_DATA_DIR=/data
WORKDIR /app

# A fixed, unprivileged uid/gid, so volumes can be prepared on the host (chown 10001:10001).
RUN groupadd --system --gid 10001 portcullis \
 && useradd --system --uid 10001 --gid portcullis --home-dir /app --no-create-home --shell /usr/sbin/nologin portcullis \
 && mkdir -p /data \
 && chown portcullis:portcullis /data

# Application files stay owned by root: the process can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
COPY packages/session-sdk ./packages/session-sdk

USER portcullis
# SQLite (single node only), the generated common-password index and an imported breach index live here.
VOLUME ["/data"]
EXPOSE 3000

# /healthz answers 200 while the database answers (a Redis outage is reported as "degraded", still 200), 503 otherwise and while shutting down. Slim images have no curl.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# `serve` finishes in-flight requests and worker batches on SIGTERM, and exits on its own after at most 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/portcullis.js"]
CMD ["serve"]
