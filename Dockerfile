# mmapd container: a Swift toolchain stage builds a static-stdlib release binary; the runtime
# stage is Debian slim with only the shared libraries that binary links (checked by
# `make docker-check`, which runs here without a Docker engine).

FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd-dev libpcre2-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY CMicroHTTPD CMicroHTTPD
COPY Sources Sources
RUN swift build -c release --static-swift-stdlib --product mmapd \
 && install -D .build/release/mmapd /out/mmapd

FROM debian:bookworm-slim
# Runtime libraries of the binary (docker-check keeps this list honest) and curl for HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 libgnutls30 libpcre2-8-0 libstdc++6 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin mmapd \
 && mkdir -p /etc/mmapd /data && chown mmapd:mmapd /data
COPY --from=build /out/mmapd /usr/local/bin/mmapd
COPY config/mmapd.json /etc/mmapd/mmapd.json
USER mmapd
VOLUME ["/data"]
EXPOSE 8080
ENV MMAPD_CONFIG=/etc/mmapd/mmapd.json \
    MMAPD_HOST=0.0.0.0 \
    MMAPD_ROOT=/data
STOPSIGNAL SIGTERM
# With HTTPS on (MMAPD_TLS_CERT set) the probe speaks TLS; --insecure because it checks that the
# server answers, not who it is (docs/DEPLOY.md).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD if [ -n "$MMAPD_TLS_CERT" ]; then curl --fail --silent --insecure --max-time 2 https://127.0.0.1:8080/healthz; \
      else curl --fail --silent --max-time 2 http://127.0.0.1:8080/healthz; fi || exit 1
ENTRYPOINT ["/usr/local/bin/mmapd"]
