# casewire: one binary for every service (`casewire serve gateway|messaging|consent|case-link`).
# Build: docker build -t casewire .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p casewire && strip target/release/casewire

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /nonexistent casewire
COPY --from=build /src/target/release/casewire /usr/local/bin/casewire
USER casewire
ENV CASEWIRE_HTTP_ADDR=0.0.0.0:8080 CASEWIRE_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["casewire"]
CMD ["serve", "all"]
