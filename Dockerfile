# The agent in a container: a static binary on distroless, as a non-root
# user. Build: docker build -t nocagent .   Run the demo:
#   docker run --rm -p 9310:9310 nocagent demo --listen 0.0.0.0:9310
# Run with your configuration (data_dir: /var/lib/nocagent):
#   docker run -d -p 9310:9310 -p 162:1162/udp -v $PWD/etc:/etc/nocagent:ro \
#     -v nocagent-data:/var/lib/nocagent nocagent run --config /etc/nocagent/nocagent.yaml
# PDF reports need headless Chromium, which this image leaves out; HTML
# reports, tickets and everything else work.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/nocagent ./cmd/nocagent \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/nocagent /usr/local/bin/nocagent
# The data directory belongs to the user the agent runs as (distroless
# nonroot is 65532), so a named volume mounted there is writable.
COPY --from=build --chown=65532:65532 /out/data /var/lib/nocagent
USER nonroot:nonroot
WORKDIR /var/lib/nocagent
EXPOSE 9310 9311 1162/udp
ENTRYPOINT ["/usr/local/bin/nocagent"]
CMD ["demo", "--listen", "0.0.0.0:9310", "--control", "0.0.0.0:9311", "--data", "/var/lib/nocagent"]
