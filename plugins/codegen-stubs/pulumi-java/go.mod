// Stands in for the Java code generator; see ../README.md.
module github.com/pulumi/pulumi-java

go 1.21
