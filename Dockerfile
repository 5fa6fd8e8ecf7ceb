# The app on Deno's official image. `deno task build` bundles the islands at image build;
# migrations run when the server starts (it waits for the database first).
FROM denoland/deno:2.9.6 AS app
WORKDIR /app
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
RUN deno task build \
  && deno cache main.ts scripts/render_stack_config.ts scripts/doctor.ts \
  && chown -R deno:deno /app /deno-dir
USER deno
EXPOSE 8000
# Least permissions: network, environment, and reading its own folder.
CMD ["deno", "run", "--cached-only", "--allow-net", "--allow-env", "--allow-read=.", "main.ts"]

# The tls profile's proxy: Caddy with the layer4 module, so that one listener on 443 serves
# the app, LiveKit's signalling and TURN over TLS (livekit/Caddyfile). These two pins are the
# ones scripts/install_media.sh builds for the tests, with xcaddy from the Go module proxy.
FROM caddy:2.11.4-builder AS caddy-build
ARG CADDY_VERSION=v2.11.4
ARG CADDY_L4_VERSION=v0.1.2
RUN xcaddy build ${CADDY_VERSION} --with github.com/mholt/caddy-l4@${CADDY_L4_VERSION}

FROM caddy:2.11.4-alpine AS caddy
COPY --from=caddy-build /usr/bin/caddy /usr/bin/caddy

# coturn from Debian 12, the same package (and so the same version) the tests run, as an
# unprivileged user: it does no TLS (Caddy does) and listens above 1024.
FROM debian:bookworm-slim AS coturn
ARG COTURN_VERSION=4.6.1-1
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends coturn=${COTURN_VERSION} \
  && rm -rf /var/lib/apt/lists/*
USER nobody
ENTRYPOINT ["turnserver"]

# The test suite (docker compose --profile test run --rm tests): the app plus Debian's
# Chromium for the browser tests, coturn, the LiveKit server and the Caddy the stack pins for
# the call tests (tests/media.ts runs them on loopback inside the container).
FROM app AS test
USER root
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium coturn openssl libnss3-tools \
  && rm -rf /var/lib/apt/lists/*
COPY --from=livekit/livekit-server:v1.13.5 /livekit-server /usr/local/bin/livekit-server
ENV LIVEKIT_SERVER=/usr/local/bin/livekit-server
COPY --from=caddy /usr/bin/caddy /usr/local/bin/caddy
ENV CADDY=/usr/local/bin/caddy
RUN deno cache tests/*.ts routes/*_test.ts routes/api/*_test.ts lib/*/*_test.ts
CMD ["deno", "task", "test"]
