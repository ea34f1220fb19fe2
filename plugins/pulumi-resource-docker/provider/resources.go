// Package provider maps the Terraform Docker provider onto the tokens and property names of the
// npm @pulumi/docker SDK, so programs written against that SDK run on this plugin unchanged.
package provider

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimschema "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// Version is the version the plugin and its schema report: the npm @pulumi/docker it pairs with.
// Set at link time from package-lock.json.
var Version = "0.0.0-dev"

// Resources whose token is not the Terraform name in PascalCase; as the npm SDK names them.
var renamedResources = map[string]string{
	"docker_image":  "RemoteImage",
	"docker_config": "ServiceConfig",
}

// Data sources as the npm SDK names them (getRemoteImage rather than getImage).
var renamedDataSources = map[string]string{
	"docker_image": "getRemoteImage",
}

// Top-level fields the npm SDK spells as Terraform does, where the bridge would pluralise them.
var keptNames = map[string]string{
	"command":           "command",
	"networks_advanced": "networksAdvanced",
	"registry_auth":     "registryAuth",
}

// Provider describes the bridged provider to tfgen and to the plugin.
func Provider(metadata []byte) tfbridge.ProviderInfo {
	p := shimv2.NewProvider(shim.NewProvider(Version))
	info := tfbridge.ProviderInfo{
		P:            p,
		Name:         "docker",
		Version:      Version,
		DisplayName:  "Docker",
		Description:  "Manage Docker containers, networks, images and volumes (modelship's build of the Terraform Docker provider).",
		Keywords:     []string{"docker", "containers"},
		License:      "Apache-2.0",
		Repository:   "https://github.com/pulumi/pulumi-docker",
		GitHubOrg:    "kreuzwerker",
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		Resources:    map[string]*tfbridge.ResourceInfo{},
		DataSources:  map[string]*tfbridge.DataSourceInfo{},
		JavaScript:   &tfbridge.JavaScriptInfo{},
	}
	for tf, token := range renamedResources {
		info.Resources[tf] = &tfbridge.ResourceInfo{Tok: tfbridge.MakeResource("docker", "index", token)}
	}
	for tf, token := range renamedDataSources {
		info.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: tfbridge.MakeDataSource("docker", "index", token)}
	}
	info.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	// Names are optional in the npm SDK (Pulumi makes one from the resource's name), except an
	// image's, which says what to pull.
	info.SetAutonaming(255, "-")
	delete(info.Resources["docker_image"].Fields, "name")
	info.Config = map[string]*tfbridge.SchemaInfo{"registry_auth": {Name: "registryAuth"}}
	keepNames(&info)
	return info
}

// keepNames gives the fields in keptNames their npm SDK spelling wherever they appear.
func keepNames(info *tfbridge.ProviderInfo) {
	for tf, res := range info.Resources {
		schema, ok := info.P.ResourcesMap().GetOk(tf)
		if !ok {
			continue
		}
		if res.Fields == nil {
			res.Fields = map[string]*tfbridge.SchemaInfo{}
		}
		schema.Schema().Range(func(key string, _ shimschema.Schema) bool {
			if name, ok := keptNames[key]; ok {
				res.Fields[key] = &tfbridge.SchemaInfo{Name: name}
			}
			return true
		})
	}
}
