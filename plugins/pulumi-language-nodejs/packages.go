package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// resourcePackage is a resource provider plugin a Node.js program needs,
// declared by an installed package's `pulumi` section.
type resourcePackage struct {
	Name    string
	Version string
	Server  string
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// resourcePackages lists the resource plugins declared by the packages under
// dir/node_modules (scoped and nested ones included), once per name and
// version, sorted for stable output.
func resourcePackages(dir string) ([]resourcePackage, error) {
	seen := map[string]resourcePackage{}
	root := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || d.Name() != "package.json" || !isPackageManifest(root, path) {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var manifest packageJSON
		if json.Unmarshal(raw, &manifest) != nil || !manifest.Pulumi.Resource {
			return nil
		}
		pkg, err := toResourcePackage(manifest)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		seen[pkg.Name+"@"+pkg.Version] = pkg
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]resourcePackage, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name+out[i].Version < out[j].Name+out[j].Version })
	return out, nil
}

// isPackageManifest is true for node_modules/<pkg>/package.json and
// node_modules/@scope/<pkg>/package.json, at any nesting of node_modules,
// and false for package.json files deeper inside a package's own folders.
func isPackageManifest(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for len(parts) > 0 {
		n := 1
		if strings.HasPrefix(parts[0], "@") {
			n = 2
		}
		if len(parts) == n+1 {
			return parts[n] == "package.json"
		}
		if len(parts) > n+1 && parts[n] == "node_modules" {
			parts = parts[n+1:]
			continue
		}
		return false
	}
	return false
}

func toResourcePackage(m packageJSON) (resourcePackage, error) {
	name := m.Pulumi.Name
	if name == "" {
		name = strings.TrimPrefix(m.Name, "@pulumi/")
		name = strings.TrimPrefix(name, "@")
	}
	if name == "" {
		return resourcePackage{}, errors.New(`missing "name"`)
	}
	version := m.Pulumi.Version
	if version == "" {
		version = m.Version
	}
	if version == "" {
		return resourcePackage{}, errors.New(`missing "version"`)
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	return resourcePackage{Name: name, Version: version, Server: m.Pulumi.Server}, nil
}
