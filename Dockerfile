# syntax=docker/dockerfile:1
# Jobscope: one image for every role. JOBSCOPE_ROLE=worker|pipeline|api|all picks what runs
# (scripts/start-role.mjs). Used by Railway (railway.json builder DOCKERFILE) and by
# infra/docker-compose.yml. Build: docker build -t jobscope .

# ---- deps: every dependency, dev ones included, to compile ------------------------------
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# ---- build: TypeScript → dist/ (plus the dashboard/Lua/JSON assets copy-assets.mjs moves) --
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/
COPY src ./src
COPY workers ./workers
COPY connectors ./connectors
RUN npm run build

# ---- runtime: production dependencies, compiled code, the price table; no compiler, no tests --
FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    JOBSCOPE_SPOOL_DIR=/app/.jobscope/spool
WORKDIR /app
COPY package.json package-lock.json ./
# One layer: install and drop npm's cache, so the cache never lands in the image.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && mkdir -p /app/.jobscope/spool && chown -R node:node /app/.jobscope
COPY --from=build /app/dist ./dist
COPY prices.json ./
COPY scripts/start-role.mjs ./scripts/
# Code and dependencies stay root-owned (read-only to the app); only the spool is writable.
USER node
# 3000: API / dashboard (PORT); 9464: pipeline /metrics and /healthz (METRICS_PORT).
EXPOSE 3000 9464
# The roles drain on SIGTERM (jobs finish, in-flight sink writes complete, SSE clients close).
STOPSIGNAL SIGTERM
# node:20-slim has no curl: the launcher probes the role's /healthz itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "scripts/start-role.mjs", "--healthcheck"]
CMD ["node", "scripts/start-role.mjs"]
