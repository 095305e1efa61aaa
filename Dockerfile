# Multi-stage build: the server (release) and the SPA (wasm32, the release profile CI checks) in
# one builder, then a small runtime image with the binary, the SPA and the built-in agent's
# corpus, run as a non-root user and checked by `chatkeep healthcheck`.
#   docker build -t chatkeep .      docker compose up --build
# The base images are build arguments so a machine without a registry can build from its own
# (scripts/compose-check.sh); the defaults are the official ones. No BuildKit feature is used, so
# the classic builder (docker-compose v1) builds it too.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The WASM tools and the SPA's npm packages in layers of their own, kept while the code changes;
# the versions are the ones scripts/lib.sh pins for every other build.
COPY rust-toolchain.toml ./
COPY scripts/lib.sh scripts/
RUN bash -c 'source scripts/lib.sh && ensure_wasm_target && ensure_wasm_bindgen && ensure_wasm_split'
COPY frontend/package.json frontend/package-lock.json frontend/
RUN bash -c 'source scripts/lib.sh && ensure_frontend_tools'
COPY . .
ENV SQLX_OFFLINE=true CARGO_TARGET_DIR=/src/target
RUN scripts/build-spa.sh && cargo build --release -p chatkeep

FROM ${RUNTIME_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin chatkeep
WORKDIR /app
COPY --from=build /src/target/release/chatkeep /usr/local/bin/chatkeep
COPY --from=build /src/dist /app/dist
COPY docs /app/docs
# The data folder (the generated secret when none is set, the development mail outbox) is the
# one place the server writes; a named volume mounted here starts with this owner.
RUN mkdir -p /app/data && chown chatkeep:chatkeep /app/data
ENV CHATKEEP_BIND=0.0.0.0:8080 \
    CHATKEEP_SPA_DIR=/app/dist \
    CHATKEEP_DATA_DIR=/app/data \
    DOCS_DIR=/app/docs \
    LOG_FORMAT=json
USER chatkeep
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 CMD ["chatkeep", "healthcheck"]
CMD ["chatkeep"]
