// Command pulumi-resource-docker is the Docker resource provider plugin: the Terraform Docker
// provider behind the Pulumi bridge, with the schema pulumi-tfgen-docker wrote beside this file.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"modelship.local/engine/pulumi-resource-docker/provider"
)

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func main() {
	tfbridge.Main("docker", provider.Version, provider.Provider(metadata), schema)
}
