# syntax=docker/dockerfile:1

# Build stage: a static, CGO-free binary (the SQLite driver is pure Go).
# BUILDPLATFORM/TARGETOS/TARGETARCH let `docker buildx build --platform ...`
# cross-compile instead of emulating; with a plain `docker build` they are the host's.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src

# Module downloads in their own layer, so editing code does not re-download them.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /out/seatsync ./cmd/seatsync

# Final stage: no shell, no package manager, user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/seatsync /seatsync
# A writable home for the non-root user; relative paths (the dev SQLite file
# var/seatsync.db) resolve here. Production uses Postgres.
WORKDIR /home/nonroot
USER 65532:65532
EXPOSE 8080
# No curl on distroless: the binary checks its own /healthz
# (`seatsync healthcheck`, default --url http://127.0.0.1:8080/healthz).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/seatsync", "healthcheck"]
ENTRYPOINT ["/seatsync"]
CMD ["serve"]
