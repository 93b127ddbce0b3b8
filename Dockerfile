# syntax=docker/dockerfile:1

# Build: a static binary (pure-Go SQLite) whose crypto is Go's BoringSSL
# module (GOEXPERIMENT=boringcrypto): RSA signatures, the cost of every RS256
# token, are about 1.45x faster with it (README, Performance). It needs cgo
# only to link BoringSSL's object in; the binary is still static. BoringSSL's
# getaddrinfo warning at link time is about code Go never calls (Go resolves
# names itself: netgo). Build with --build-arg CRYPTO=go for pure-Go crypto.
FROM golang:1.26-bookworm AS build
ARG CRYPTO=boring
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN if [ "$CRYPTO" = boring ]; then \
      CGO_ENABLED=1 GOEXPERIMENT=boringcrypto go build -tags netgo,osusergo -trimpath \
        -ldflags "-s -w -linkmode external -extldflags -static" -o /out/gatehouse ./app; \
    else \
      CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/gatehouse ./app; \
    fi \
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
