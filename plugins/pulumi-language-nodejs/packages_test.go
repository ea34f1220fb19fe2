package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestResourcePackagesFindsScopedNestedAndDeclaredNames(t *testing.T) {
	dir := t.TempDir()
	nm := filepath.Join(dir, "node_modules")
	writeFile(t, filepath.Join(nm, "@pulumi", "kubernetes", "package.json"),
		`{"name":"@pulumi/kubernetes","version":"4.34.2","pulumi":{"resource":true,"name":"kubernetes"}}`)
	writeFile(t, filepath.Join(nm, "@pulumi", "command", "package.json"),
		`{"name":"@pulumi/command","version":"1.2.1","pulumi":{"resource":true}}`)
	// A package's own files are not packages: this one must not count.
	writeFile(t, filepath.Join(nm, "@pulumi", "command", "bin", "package.json"),
		`{"name":"@pulumi/command","version":"9.9.9","pulumi":{"resource":true}}`)
	// Nested node_modules: another version of a provider SDK.
	writeFile(t, filepath.Join(nm, "wrapper", "node_modules", "@pulumi", "aws", "package.json"),
		`{"name":"@pulumi/aws","version":"7.48.0","pulumi":{"resource":true,"server":"https://example.invalid"}}`)
	// Not a provider.
	writeFile(t, filepath.Join(nm, "@pulumi", "pulumi", "package.json"), `{"name":"@pulumi/pulumi","version":"3.270.0"}`)
	writeFile(t, filepath.Join(nm, "zod", "package.json"), `{"name":"zod","version":"4.6.7"}`)
	// Not parseable: ignored, as the released host does.
	writeFile(t, filepath.Join(nm, "broken", "package.json"), `{`)

	got, err := resourcePackages(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []resourcePackage{
		{Name: "aws", Version: "v7.48.0", Server: "https://example.invalid"},
		{Name: "command", Version: "v1.2.1"},
		{Name: "kubernetes", Version: "v4.34.2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resourcePackages = %+v, want %+v", got, want)
	}
}

func TestResourcePackagesWithoutNodeModules(t *testing.T) {
	got, err := resourcePackages(t.TempDir())
	if err != nil || len(got) != 0 {
		t.Fatalf("resourcePackages = %v, %v; want nothing", got, err)
	}
}

func TestToResourcePackageNeedsAVersion(t *testing.T) {
	var m packageJSON
	m.Name = "@acme/thing"
	m.Pulumi.Resource = true
	if _, err := toResourcePackage(m); err == nil {
		t.Fatal("a package without a version was accepted")
	}
	m.Version = "v1.0.0"
	got, err := toResourcePackage(m)
	if err != nil || got.Name != "acme/thing" || got.Version != "v1.0.0" {
		t.Fatalf("toResourcePackage = %+v, %v", got, err)
	}
}

func TestSdkScriptWalksUpAndExplainsAMissingSdk(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "node_modules", "@pulumi", "pulumi", "cmd", "run", "index.js"), "")
	program := filepath.Join(root, "policies")
	if err := os.MkdirAll(program, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := sdkScript(program, "run")
	if err != nil || got != filepath.Join(root, "node_modules", "@pulumi", "pulumi", "cmd", "run") {
		t.Fatalf("sdkScript = %q, %v", got, err)
	}
	if _, err := sdkScript(program, "run-policy-pack"); err == nil {
		t.Fatal("a missing script was found")
	}
}
