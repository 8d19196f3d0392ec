# Build stage: the same flags as `make build` (static, trimmed, stripped; the
# VCS revision is stamped when the context has .git, which .dockerignore leaves out).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=auto -ldflags "-s -w" -o /out/cognito-export ./cmd/cognito-export

# Final image: the binary and CA certificates only, as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cognito-export /cognito-export
USER nonroot:nonroot
ENTRYPOINT ["/cognito-export"]
CMD ["--help"]
