// Package java stands in for pulumi-java's code generator: the docker-build provider only writes
// a PackageInfo into its schema (see ../../../../README.md).
package java

// PackageInfo holds the fields the docker-build provider sets, and the two the real type always
// writes, under the real type's JSON names, so the schema's language.java section is unchanged.
type PackageInfo struct {
	BasePackage                     string            `json:"basePackage"`
	BuildFiles                      string            `json:"buildFiles"`
	Dependencies                    map[string]string `json:"dependencies,omitempty"`
	GradleNexusPublishPluginVersion string            `json:"gradleNexusPublishPluginVersion"`
	GradleTest                      string            `json:"gradleTest"`
}
