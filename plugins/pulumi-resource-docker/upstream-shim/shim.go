// Package shim is copied into the upstream Terraform provider's module when the plugin is built:
// its provider package is internal, so only a package inside that module can hand it out.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the provider's SDKv2 half (containers, networks, images, volumes, ...).
func NewProvider(version string) *schema.Provider {
	return provider.New(version)()
}
