package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

const testURN = resource.URN("urn:pulumi:dev::proj::command:local:Command::gate")

func props(kv map[string]any) property.Map {
	m := map[string]property.Value{}
	for k, v := range kv {
		m[k] = value(v)
	}
	return property.NewMap(m)
}

func value(v any) property.Value {
	if list, ok := v.([]any); ok {
		items := make([]property.Value, len(list))
		for i, item := range list {
			items[i] = value(item)
		}
		return property.New(property.NewArray(items))
	}
	converted, err := property.Any(v)
	if err != nil {
		panic(err)
	}
	return converted
}

func TestCheckRefusesWhatItDoesNotImplementAndWrongTypes(t *testing.T) {
	resp, err := check(context.Background(), p.CheckRequest{Urn: testURN, Inputs: props(map[string]any{
		"create":       "true",
		"archivePaths": []any{"*.txt"},
		"dir":          42.0,
		"logging":      "loud",
		"interpreter":  []any{},
		"creat":        "typo",
	})})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range resp.Failures {
		got[f.Property] = f.Reason
	}
	for key, want := range map[string]string{
		"archivePaths": "not supported",
		"dir":          "must be a string",
		"logging":      `"loud" is not one of`,
		"interpreter":  "must name a program",
		"creat":        "not an input",
	} {
		if !strings.Contains(got[key], want) {
			t.Errorf("failure for %s: %q, want one containing %q", key, got[key], want)
		}
	}
	if len(got) != 5 {
		t.Errorf("failures %v, want exactly those five", got)
	}
}

func TestCheckDefaultsAddPreviousOutputInEnvAndAcceptsUnknowns(t *testing.T) {
	inputs := props(map[string]any{"create": "true"}).Set("triggers", property.New(property.NewArray([]property.Value{unknown}))).Set("dir", unknown)
	resp, err := check(context.Background(), p.CheckRequest{Urn: testURN, Inputs: inputs})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Failures) != 0 {
		t.Fatalf("failures %v", resp.Failures)
	}
	if v := resp.Inputs.Get("addPreviousOutputInEnv"); !v.IsBool() || !v.AsBool() {
		t.Fatalf("addPreviousOutputInEnv %v, want true", v)
	}
}

// The file a test's commands append to, one line per command run.
func journal(t *testing.T) (string, func() string) {
	path := filepath.Join(t.TempDir(), "journal")
	return path, func() string {
		b, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
}

func TestCreateRunsCreateAndRecordsItsOutputUnlessPreviewing(t *testing.T) {
	path, ran := journal(t)
	inputs := props(map[string]any{"create": "echo create >> " + path + "; echo out; echo err >&2"})
	preview, err := create(context.Background(), p.CreateRequest{Urn: testURN, Properties: inputs, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if ran() != "" || !preview.Properties.Get("stdout").IsComputed() {
		t.Fatalf("preview ran %q, stdout %v", ran(), preview.Properties.Get("stdout"))
	}
	resp, err := create(context.Background(), p.CreateRequest{Urn: testURN, Properties: inputs})
	if err != nil {
		t.Fatal(err)
	}
	if ran() != "create" || resp.Properties.Get("stdout").AsString() != "out" || resp.Properties.Get("stderr").AsString() != "err" {
		t.Fatalf("ran %q, outputs %v", ran(), resp.Properties)
	}
	if !strings.HasPrefix(resp.ID, "gate-") || resp.Properties.Get("create").AsString() != inputs.Get("create").AsString() {
		t.Fatalf("id %q, outputs %v", resp.ID, resp.Properties)
	}
}

func TestCreateFailureFailsWithTheCommandsOutput(t *testing.T) {
	_, err := create(context.Background(), p.CreateRequest{Urn: testURN, Properties: props(map[string]any{"create": "echo 'smoke: 503 from /v1/models' >&2; exit 7"})})
	if err == nil || !strings.Contains(err.Error(), "exited with code 7") || !strings.Contains(err.Error(), "smoke: 503 from /v1/models") {
		t.Fatalf("err %v", err)
	}
}

func TestUpdateRunsUpdateOrElseCreateWithThePreviousOutput(t *testing.T) {
	path, ran := journal(t)
	state := props(map[string]any{"stdout": "old-out", "stderr": "old-err"})
	withUpdate := props(map[string]any{
		"create": "echo create >> " + path,
		"update": `echo "update $PULUMI_COMMAND_STDOUT $PULUMI_COMMAND_STDERR" >> ` + path + "; echo new",
	})
	resp, err := update(context.Background(), p.UpdateRequest{Urn: testURN, State: state, Inputs: withUpdate})
	if err != nil {
		t.Fatal(err)
	}
	if ran() != "update old-out old-err" || resp.Properties.Get("stdout").AsString() != "new" {
		t.Fatalf("ran %q, outputs %v", ran(), resp.Properties)
	}
	createOnly := props(map[string]any{"create": "echo create >> " + path, "addPreviousOutputInEnv": false})
	if _, err := update(context.Background(), p.UpdateRequest{Urn: testURN, State: state, Inputs: createOnly}); err != nil {
		t.Fatal(err)
	}
	if ran() != "update old-out old-err\ncreate" {
		t.Fatalf("ran %q", ran())
	}
}

func TestDeleteRunsDeleteWithThePreviousOutput(t *testing.T) {
	path, ran := journal(t)
	state := props(map[string]any{"create": "true", "delete": `echo "delete $PULUMI_COMMAND_STDOUT" >> ` + path, "stdout": "made", "stderr": ""})
	if err := deleteCommand(context.Background(), p.DeleteRequest{Urn: testURN, Properties: state}); err != nil {
		t.Fatal(err)
	}
	if ran() != "delete made" {
		t.Fatalf("ran %q", ran())
	}
	if err := deleteCommand(context.Background(), p.DeleteRequest{Urn: testURN, Properties: props(map[string]any{"create": "true"})}); err != nil {
		t.Fatalf("a command without delete: %v", err)
	}
}

func TestVersionedSchemaReportsTheBuildVersion(t *testing.T) {
	schema, err := versionedSchema(schemaJSON, "1.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(schema, `"version":"1.2.1"`) || !strings.Contains(schema, `"command:local:Command"`) {
		t.Fatalf("schema %.200s", schema)
	}
}
