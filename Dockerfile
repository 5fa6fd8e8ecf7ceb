# The app on Deno's official image. `deno task build` bundles the islands at image build;
# migrations run when the server starts (it waits for the database first).
FROM denoland/deno:2.9.6 AS app
WORKDIR /app
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
RUN deno task build \
  && deno cache main.ts scripts/render_stack_config.ts \
  && chown -R deno:deno /app /deno-dir
USER deno
EXPOSE 8000
# Least permissions: network, environment, and reading its own folder.
CMD ["deno", "run", "--cached-only", "--allow-net", "--allow-env", "--allow-read=.", "main.ts"]

# The test suite (docker compose --profile test run --rm tests): the app plus Debian's
# Chromium for the browser tests, coturn and the LiveKit server the stack pins for the call
# tests (tests/media.ts runs them on loopback inside the container).
FROM app AS test
USER root
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium coturn openssl \
  && rm -rf /var/lib/apt/lists/*
COPY --from=livekit/livekit-server:v1.13.5 /livekit-server /usr/local/bin/livekit-server
ENV LIVEKIT_SERVER=/usr/local/bin/livekit-server
RUN deno cache tests/*.ts routes/*_test.ts routes/api/*_test.ts lib/*_test.ts
CMD ["deno", "task", "test"]
