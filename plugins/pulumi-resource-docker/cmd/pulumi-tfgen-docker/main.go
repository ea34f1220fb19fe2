// Command pulumi-tfgen-docker writes the plugin's Pulumi schema and bridge metadata
// (`pulumi-tfgen-docker schema --out DIR --skip-docs`); the plugin embeds both.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"modelship.local/engine/pulumi-resource-docker/provider"
)

func main() {
	tfgen.Main("docker", provider.Version, provider.Provider(nil))
}
