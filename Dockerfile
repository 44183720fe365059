# syntax=docker/dockerfile:1
# Sluice's image: built on the Swift image with scripts/package.sh (the release tarball, Swift
# runtime linked in statically), run on Debian 12 slim with only the runtime packages the
# tarball's install.sh installs — the same steps scripts/test-package.sh tests in CI.
#
#   docker build -t sluice .
#   docker run --rm -p 9090:9090 sluice                     # the shipped example transformations
#   docker run --rm -p 9090:9090 -v "$PWD/transformations:/srv/sluice/transformations:ro" \
#              -v "$PWD/libraries:/srv/sluice/libraries:ro" sluice    # your own
#
# docker-compose.yml adds PostgreSQL as the store. See docs/install.md.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
WORKDIR /src
COPY scripts/install-dependencies.sh scripts/
RUN scripts/install-dependencies.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/src/.build scripts/package.sh --output /dist

FROM ${RUNTIME_IMAGE}
COPY --from=build /dist/ /tmp/dist/
RUN tar -xzf /tmp/dist/sluice-*.tar.gz -C /opt \
 && mv /opt/sluice-* /opt/sluice \
 && rm -rf /tmp/dist \
 && /opt/sluice/install.sh --link /usr/local/bin \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /srv/sluice --shell /usr/sbin/nologin sluice \
 && cp -R /opt/sluice/transformations /opt/sluice/libraries /srv/sluice/ \
 && chown -R sluice:sluice /srv/sluice
# A numeric user, so Kubernetes' runAsNonRoot can check it (deploy/kubernetes/deployment.yaml).
USER 10001:10001
WORKDIR /srv/sluice
ENV SLUICE_HOST=0.0.0.0 \
    SLUICE_PORT=9090
EXPOSE 9090
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${SLUICE_PORT}/health" > /dev/null || exit 1
ENTRYPOINT ["sluice"]
CMD ["serve"]
