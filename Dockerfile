# syntax=docker/dockerfile:1
# One image with every toolwire binary (toolwire, echo-service, search-service,
# ...) in /usr/local/bin; docker-compose.yml gives each service its command.
#
#   docker build -t toolwire:dev .
#   docker run --rm toolwire:dev toolwire tools

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# gen/ is checked in, so no buf or protoc is needed here.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /out/ ./cmd/...

FROM debian:bookworm-slim AS runtime
# curl for the edge's /healthz check; bash (already there) for the backends' TCP checks.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin toolwire
COPY --from=build /out/ /usr/local/bin/
USER toolwire
EXPOSE 7070 7071 7072
CMD ["toolwire", "tools"]
