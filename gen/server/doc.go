// Package server is the net/http strict server interface generated from openapi.yaml by
// oapi-codegen: StrictServerInterface, one request and response type per operation, and
// the handler that routes to it. The models it uses are those of package gen.
//
// server.gen.go is generated: never edit it by hand (see package gen).
package server

//go:generate go tool oapi-codegen -config server.cfg.yaml ../../openapi.yaml
