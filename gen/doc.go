// Package gen holds the Go bindings generated from openapi.yaml by oapi-codegen:
// the models, the client (Client and ClientWithResponses), the net/http strict
// server interface and the embedded spec.
//
// Every *.gen.go file here is generated: never edit one by hand. Change
// openapi.yaml or a *.cfg.yaml file here and run `make generate` (or
// `go generate ./gen`); `make check-generated` fails when the files are stale.
//
// Most programs use the hand-written SDK in the parent module instead; this
// package stays public for anything the SDK does not wrap.
package gen

//go:generate go tool oapi-codegen -config models.cfg.yaml ../openapi.yaml
//go:generate go tool oapi-codegen -config client.cfg.yaml ../openapi.yaml
//go:generate go tool oapi-codegen -config server.cfg.yaml ../openapi.yaml
//go:generate go tool oapi-codegen -config spec.cfg.yaml ../openapi.yaml
