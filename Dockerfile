# syntax=docker/dockerfile:1
# casskeeper's image: `node bin/casskeeper.js serve --kube --self-managed-tls` as UID 10001.
#
# Base: the official node:24-bookworm-slim in every stage, so the Node that builds is the Node that runs.
# Distroless (gcr.io/distroless/nodejs24-debian12) was weighed: it has no shell or package manager, but its
# Node lives at /nodejs/bin/node, off PATH, and a shell-less image cannot be debugged with `kubectl exec`.
# The slim image gets most of the same reduction here by deleting npm, npx, corepack and yarn from the
# runtime stage (they carry most of the image's third-party code and nothing at runtime uses them).
# Pin the base by digest (node:24-bookworm-slim@sha256:…) in release builds.
#
# Build:  docker build -t ghcr.io/casskeeper/casskeeper:0.1.0 .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: compile src/ to dist/ -----------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the only install script in the tree is the `node` dev dependency's (node@24, which pins
# Node 24 for the project's npm scripts on machines whose own Node is older); it would download a second
# Node 24. Without it, `npm run build` runs tsc on this image's Node 24.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No dev dependencies (TypeScript, Biome, node@24, test tools): the image's own Node 24 runs dist/.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime --------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="casskeeper" \
      org.opencontainers.image.description="Admission webhook, Git sync and backup runner for Apache Cassandra backups on Kubernetes (CassKop's CassandraBackup/CassandraRestore)" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/casskeeper/casskeeper"
# A fixed numeric user (10001, outside the range of users a host or the base image defines) matching the
# Deployment's runAsUser, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
RUN groupadd --system --gid 10001 casskeeper \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin casskeeper \
 && install -d -o 10001 -g 10001 /var/cache/casskeeper/git \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
WORKDIR /app
# What runs, owned by root and read-only to the user. No src/: bin/casskeeper.js runs src/cli/main.ts when
# it exists and dist/cli/main.js otherwise. manifests/crds/ is read at runtime: the structural validator
# loads the CRD YAML from ../../manifests/crds/ relative to dist/schema/.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY manifests/crds ./manifests/crds
ENV NODE_ENV=production
USER 10001:10001
# WEBHOOK_PORT (src/admission/constants.ts): AdmissionReviews, /healthz, /readyz and /metrics over HTTPS.
EXPOSE 8443
ENTRYPOINT ["node", "bin/casskeeper.js"]
CMD ["serve", "--kube", "--self-managed-tls", "--git-sync", "--git-cache-dir=/var/cache/casskeeper/git", "--git-webhook-secret-file=/etc/casskeeper/git-webhook/secret"]
