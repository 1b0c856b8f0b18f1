// Package gen holds the Go models and HTTP client generated from openapi.yaml by
// oapi-codegen. Its subpackages hold the rest of the generated code, apart so that a
// program using only the client links neither: gen/server (the net/http strict server
// interface, for servers) and gen/spec (the embedded contract and kin-openapi, for
// validators).
//
// Every *.gen.go file here is generated: never edit one by hand. Change openapi.yaml or a
// *.cfg.yaml / overlay file here and run `make generate` (or `go generate ./gen/...`);
// `make check-generated` fails when the files are stale. gen/README.md records the
// naming choices (Go initialisms, plain values instead of optional pointers, open enums).
//
// Most programs use the hand-written SDK in the parent module instead; this package stays
// public for anything the SDK does not wrap.
package gen

//go:generate go tool oapi-codegen -config models.cfg.yaml ../openapi.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml ../openapi.yaml
