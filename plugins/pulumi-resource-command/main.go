// pulumi-resource-command serves command:local:Command, the resource of the @pulumi/command
// SDK that this project's gates use, on machines where the released command plugin cannot be
// installed (its Go module is not served by the module proxy). It reports the version of the
// @pulumi/command SDK it was built for, so the engine pairs it with that SDK.
//
// It is written on pulumi-go-provider's lower-level API: the infer layer of the only release
// the proxy serves (v1.3.2) does not compile against the Pulumi SDK v3.274.1 the rest of the
// toolchain uses, and its generic diff reports a changed trigger as an update, not a replace.
// go.mod pins github.com/pulumi/pulumi/pkg/v3 to the SDK's release for the same reason: the
// v3.232.0 that pulumi-go-provider asks for does not build against sdk v3.274.1.
package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"
)

// version is set at build time to the @pulumi/command version in package-lock.json.
var version = "0.0.0-dev"

// schemaJSON declares command:local:Command as the @pulumi/command SDK expects it; a contract
// test compares it with the SDK's types.
//
//go:embed schema.json
var schemaJSON []byte

const commandToken = "command:local:Command"

func newProvider() p.Provider {
	only := func(urnType string) error {
		if urnType != commandToken {
			return fmt.Errorf("%s is not served by this provider; it serves only %s", urnType, commandToken)
		}
		return nil
	}
	return p.Provider{
		GetSchema: func(context.Context, p.GetSchemaRequest) (p.GetSchemaResponse, error) {
			schema, err := versionedSchema(schemaJSON, version)
			return p.GetSchemaResponse{Schema: schema}, err
		},
		Check: func(ctx context.Context, req p.CheckRequest) (p.CheckResponse, error) {
			if err := only(string(req.Urn.Type())); err != nil {
				return p.CheckResponse{}, err
			}
			return check(ctx, req)
		},
		Diff: func(ctx context.Context, req p.DiffRequest) (p.DiffResponse, error) {
			if err := only(string(req.Urn.Type())); err != nil {
				return p.DiffResponse{}, err
			}
			return diffCommand(ctx, req)
		},
		Create: func(ctx context.Context, req p.CreateRequest) (p.CreateResponse, error) {
			if err := only(string(req.Urn.Type())); err != nil {
				return p.CreateResponse{}, err
			}
			return create(ctx, req)
		},
		Update: func(ctx context.Context, req p.UpdateRequest) (p.UpdateResponse, error) {
			if err := only(string(req.Urn.Type())); err != nil {
				return p.UpdateResponse{}, err
			}
			return update(ctx, req)
		},
		Delete: func(ctx context.Context, req p.DeleteRequest) error {
			if err := only(string(req.Urn.Type())); err != nil {
				return err
			}
			return deleteCommand(ctx, req)
		},
		Read: func(ctx context.Context, req p.ReadRequest) (p.ReadResponse, error) {
			if err := only(string(req.Urn.Type())); err != nil {
				return p.ReadResponse{}, err
			}
			return read(ctx, req)
		},
	}
}

// versionedSchema sets the schema's version to the one this binary reports.
func versionedSchema(raw []byte, version string) (string, error) {
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		return "", fmt.Errorf("the embedded schema.json: %w", err)
	}
	schema["version"] = version
	out, err := json.Marshal(schema)
	return string(out), err
}

func main() {
	if err := p.RunProvider(context.Background(), "command", version, newProvider()); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-command: %v\n", err)
		os.Exit(1)
	}
}
