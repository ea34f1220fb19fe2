// Stands in for the C# code generator; see ../README.md.
module github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3

go 1.21
