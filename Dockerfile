# syntax=docker/dockerfile:1
# berth: a pull-through caching mirror for container registries.
#
#   docker build -t berth .
#   docker run -d -p 5000:5000 -v berth-cache:/var/lib/berth berth
#   docker run --rm berth config check          # print the effective configuration

# ---- build: compile TypeScript -------------------------------------------------------
FROM node:20-bookworm-slim AS builder
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
# `prepare` runs tsc, and the sources are not copied yet: install without lifecycle
# scripts (none of the dependencies needs an install script), compile afterwards.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# ---- runtime: production dependencies and the compiled JavaScript only -------------------
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which is a dev dependency and not installed here.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=builder /app/dist/src ./dist/src
COPY config ./config

# A fixed numeric id so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 berth \
 && useradd --system --uid 10001 --gid berth --home-dir /var/lib/berth --no-create-home \
      --shell /usr/sbin/nologin berth \
 && mkdir -p /var/lib/berth \
 && chown berth:berth /var/lib/berth
USER 10001:10001

ENV BERTH_LISTEN=0.0.0.0:5000 \
    BERTH_DATA_DIR=/var/lib/berth
VOLUME /var/lib/berth
EXPOSE 5000

# /healthz answers 200 while the process serves HTTP. The port matches BERTH_LISTEN above.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:5000/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["serve"]
