// Package pluginpb is the generated gRPC code of plugin.proto, the wire
// contract of nocagent's out-of-process plugins. Do not edit the .pb.go
// files: change plugin.proto and run generate.sh (protoc 3.21+,
// protoc-gen-go v1.36.12, protoc-gen-go-grpc v1.6.2).
package pluginpb

//go:generate ./generate.sh
