# Multi-stage build: the server (release) and the SPA (wasm32) in one builder, then a slim
# runtime image with the binary, the SPA and the built-in agent's corpus.
#   docker build -t chatkeep .      docker compose up
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN rustup target add wasm32-unknown-unknown \
 && CARGO_PROFILE_DEV_DEBUG=0 cargo install wasm-bindgen-cli --version 0.2.130 --debug
WORKDIR /src
COPY . .
ENV SQLX_OFFLINE=true CARGO_TARGET_DIR=/src/target
RUN scripts/build-spa.sh && cargo build --release -p chatkeep

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app --shell /usr/sbin/nologin chatkeep
WORKDIR /app
COPY --from=build /src/target/release/chatkeep /usr/local/bin/chatkeep
COPY --from=build /src/dist /app/dist
COPY docs /app/docs
RUN mkdir -p /app/data && chown chatkeep /app/data
ENV CHATKEEP_BIND=0.0.0.0:8080 \
    CHATKEEP_SPA_DIR=/app/dist \
    CHATKEEP_DATA_DIR=/app/data \
    DOCS_DIR=/app/docs \
    LOG_FORMAT=json
USER chatkeep
EXPOSE 8080
CMD ["chatkeep"]
