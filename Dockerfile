# syntax=docker/dockerfile:1
# Build:  docker build -t switchyard .
# CUDA:   docker build --target runtime-cuda -t switchyard:cuda .
# Run:    docker run -p 8080:8080 -v $PWD/models:/app/models:ro -e HOST=0.0.0.0 switchyard

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# GPU image: node-llama-cpp ships a CUDA prebuilt (@node-llama-cpp/linux-x64-cuda); it needs
# the CUDA runtime and an NVIDIA driver (--gpus all). Set `gpu: cuda` / `gpuLayers: max` in config.
FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04 AS runtime-cuda
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 SWITCHYARD_DATA_DIR=/app/data LANCEDB_LOG=error
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
  && curl -fsSL https://deb.nodesource.com/setup_22.x | bash - && apt-get install -y --no-install-recommends nodejs \
  && rm -rf /var/lib/apt/lists/* && useradd -m -u 1001 switchyard
WORKDIR /app
COPY --from=build --chown=switchyard /app/node_modules ./node_modules
COPY --from=build --chown=switchyard /app/dist ./dist
COPY --chown=switchyard package.json ./
COPY --chown=switchyard config ./config
RUN mkdir -p /app/data /app/models && chown switchyard /app/data /app/models
USER switchyard
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=180s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/cli.js", "serve"]

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 SWITCHYARD_DATA_DIR=/app/data LANCEDB_LOG=error
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node config ./config
RUN mkdir -p /app/data /app/models && chown node:node /app/data /app/models
USER node
EXPOSE 8080
VOLUME ["/app/data"]
# Models are mounted read-only at /app/models; loading a large one takes a while.
HEALTHCHECK --interval=15s --timeout=3s --start-period=120s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/cli.js", "serve"]
