// Package codegen stands in for pulumi-language-dotnet's C# code generator: the docker-build
// provider only writes a CSharpPackageInfo into its schema (see ../../README.md).
package codegen

// CSharpPackageInfo holds the fields the docker-build provider sets, under the real type's JSON
// names, so the schema's language.csharp section is unchanged.
type CSharpPackageInfo struct {
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
}
