# convoy in a container: the same binaries, configs and scripts for everyone who repeats an
# experiment. The build stage compiles the release preset on Debian 12 with the same
# scripts/install-deps.sh as a bare checkout; the runtime stage carries only the two programs,
# configs/, scripts/ and the packages they use at run time. docs/docker.md has the details
# (and how to make the debian:bookworm base locally when no registry can be reached).
#
#   docker build --network host -t convoy .
#   docker run --rm convoy                  # prints how to run the demo

FROM debian:bookworm AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# The dependency layer first, so that it is rebuilt only when install-deps.sh changes.
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
# Only what the two programs are built from: a change to docs/, scripts/, configs/ or tests/ reuses
# the compiled layer. The image needs no tests or benchmarks: scripts/test.sh builds and runs those.
COPY CMakeLists.txt CMakePresets.json ./
COPY cmake cmake/
COPY gilcore gilcore/
COPY common common/
COPY server server/
COPY client client/
# There is no .git in the build context; the revision comes in as a build argument.
ARG CONVOY_REVISION=unknown
RUN cmake --preset release -DCONVOY_BUILD_TESTS=OFF -DCONVOY_BUILD_BENCHMARKS=OFF \
      -DCONVOY_GIT_REVISION="${CONVOY_REVISION}" \
 && cmake --build --preset release --target convoy-server convoy-client

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
ARG CONVOY_UID=10001
ARG CONVOY_REVISION=unknown
LABEL org.opencontainers.image.title="convoy" \
      org.opencontainers.image.description="A testbed for the GIL convoy effect: convoy-server and convoy-client" \
      org.opencontainers.image.revision="${CONVOY_REVISION}"
# Shared libraries of the two programs (spdlog, fmt), then what the scripts call: python3 for
# the results (tables and CSVs; the plots need matplotlib, which scripts/docker-demo.sh runs on
# the host instead, to keep the image small), taskset (util-linux) and ps/kill (procps) for
# pinning and stopping, ss (iproute2) for the compose healthcheck.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libspdlog1.1 libfmt9 python3 procps util-linux iproute2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid "${CONVOY_UID}" --user-group --no-create-home \
      --home-dir /opt/convoy --shell /usr/sbin/nologin convoy
# The repository's layout, so that scripts/demo.sh and friends find everything where a checkout
# keeps it; results/ is the directory to mount.
WORKDIR /opt/convoy
COPY --from=build /src/build/release/server/convoy-server build/release/server/
COPY --from=build /src/build/release/client/convoy-client build/release/client/
COPY configs configs/
COPY scripts scripts/
# Running both programs once fails the build here if a runtime library is missing.
RUN ln -s /opt/convoy/build/release/server/convoy-server /opt/convoy/build/release/client/convoy-client \
      /usr/local/bin/ \
 && mkdir results && chown convoy:convoy results \
 && convoy-server --version && convoy-client --version
USER convoy
CMD ["scripts/docker-help.sh"]
