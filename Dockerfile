# syntax=docker/dockerfile:1

# Build: a static binary (pure-Go SQLite, no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/gatehouse ./app \
 && mkdir -p /out/data

# Run: distroless, as the non-root user (uid 65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatehouse /gatehouse
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
ENV GATEHOUSE_DATA_DIR=/data \
    GATEHOUSE_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/gatehouse"]
CMD ["serve"]
