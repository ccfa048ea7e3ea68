# The image the pipeline template runs (templates/tokenops.gitlab-ci.yml, TOKENOPS_IMAGE):
# tokenops built in release mode, then copied alone into a small Debian runtime with a shell
# (GitLab runs job scripts through it), run as an unprivileged user. Published for every tag
# by the release:image job of .gitlab-ci.yml.

FROM rust:1.89-slim-bookworm AS build
WORKDIR /src
COPY . .
# `.git` stays out of the build context: the commit `tokenops --version` prints comes in here
# (build.rs reads it).
ARG SOURCE_COMMIT=unknown
RUN cargo build --locked --release --bin tokenops \
    && strip target/release/tokenops

FROM debian:bookworm-slim
# TLS roots are built into the binary (rustls with webpki roots): no packages to install.
RUN useradd --uid 10001 --user-group --create-home --shell /bin/bash tokenops
COPY --from=build /src/target/release/tokenops /usr/local/bin/tokenops
USER 10001:10001
WORKDIR /home/tokenops
# No ENTRYPOINT: GitLab hands the job script to the image's shell.
CMD ["tokenops", "--help"]
