# One image for every Threadwork service; the command picks the service. Built from the same npm scripts as the README.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/testing/package.json packages/testing/
COPY services/api/package.json services/api/
COPY services/run-worker/package.json services/run-worker/
COPY services/tool-worker/package.json services/tool-worker/
COPY services/sandbox-worker/package.json services/sandbox-worker/
COPY services/ingest-worker/package.json services/ingest-worker/
RUN npm ci --no-audit --no-fund

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
USER node
EXPOSE 8080
CMD ["npm", "run", "start", "-w", "@threadwork/api"]

# The sandbox worker's image adds bubblewrap and the Python the code_interpreter runs (docs/code-interpreter.md). It
# runs as root inside its container so that each session gets a uid of its own; the sessions themselves never do.
FROM runtime AS sandbox
USER root
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap python3 python3-numpy python3-pandas \
    python3-matplotlib \
  && rm -rf /var/lib/apt/lists/*
EXPOSE 8083
CMD ["npm", "run", "start", "-w", "@threadwork/sandbox-worker"]

# The test image adds Debian's Chromium for the browser test, and the Postgres and Redis servers the fault tests start
# on spare ports of their own (`docker compose --profile test run --rm tests`); the sandbox's tests need what the
# sandbox image has.
FROM sandbox AS test
USER root
RUN apt-get update && apt-get install -y --no-install-recommends chromium postgresql redis-server \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=test
CMD ["npm", "test"]
