#!/bin/sh
# Regenerates plugin.pb.go and plugin_grpc.pb.go from plugin.proto.
# Needs protoc and the well-known types it imports (apt-get install
# protobuf-compiler libprotobuf-dev) and the two Go generators:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# Run from anywhere: ./plugins/proto/generate.sh, or go generate ./plugins/proto
set -eu
cd "$(dirname "$0")"
PATH="$(go env GOPATH)/bin:$PATH"
protoc --proto_path=. \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  plugin.proto
