package main

import (
	"context"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

func inputs(kv map[string]property.Value) property.Map { return property.NewMap(kv) }

func strs(items ...string) property.Value {
	values := make([]property.Value, len(items))
	for i, s := range items {
		values[i] = property.New(s)
	}
	return property.New(property.NewArray(values))
}

func diffOf(t *testing.T, olds, news property.Map) p.DiffResponse {
	t.Helper()
	resp, err := diffCommand(context.Background(), p.DiffRequest{OldInputs: olds, Inputs: news})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDiffReplacesWhenATriggerElementChanges(t *testing.T) {
	olds := inputs(map[string]property.Value{"create": property.New("echo hi"), "triggers": strs("a", "b")})
	news := inputs(map[string]property.Value{"create": property.New("echo hi"), "triggers": strs("a", "c")})
	resp := diffOf(t, olds, news)
	if !resp.HasChanges || len(resp.DetailedDiff) != 1 || resp.DetailedDiff["triggers"].Kind != p.UpdateReplace {
		t.Fatalf("diff %+v, want triggers: update-replace only", resp)
	}
}

func TestDiffUpdatesWhenACommandChanges(t *testing.T) {
	olds := inputs(map[string]property.Value{"create": property.New("echo one")})
	news := inputs(map[string]property.Value{"create": property.New("echo two"), "dir": property.New("/tmp")})
	resp := diffOf(t, olds, news)
	if resp.DetailedDiff["create"].Kind != p.Update || resp.DetailedDiff["dir"].Kind != p.Add || len(resp.DetailedDiff) != 2 {
		t.Fatalf("diff %+v", resp.DetailedDiff)
	}
}

func TestDiffSeesNoChangeForEqualInputsEvenIfOneIsSecret(t *testing.T) {
	olds := inputs(map[string]property.Value{"create": property.New("x"), "triggers": strs("a"), "environment": property.New(map[string]property.Value{"K": property.New("v")})})
	news := inputs(map[string]property.Value{"create": property.New("x").WithSecret(true), "triggers": strs("a"), "environment": property.New(map[string]property.Value{"K": property.New("v")})})
	resp := diffOf(t, olds, news)
	if resp.HasChanges || len(resp.DetailedDiff) != 0 {
		t.Fatalf("diff %+v, want none", resp)
	}
}

func TestDiffReplacesWhenATriggerIsUnknownInPreview(t *testing.T) {
	olds := inputs(map[string]property.Value{"triggers": strs("digest-1")})
	news := inputs(map[string]property.Value{"triggers": property.New(property.NewArray([]property.Value{property.New(property.Computed)}))})
	resp := diffOf(t, olds, news)
	if resp.DetailedDiff["triggers"].Kind != p.UpdateReplace {
		t.Fatalf("diff %+v", resp.DetailedDiff)
	}
}

func TestDiffReplacesWhenTriggersAreAddedOrRemoved(t *testing.T) {
	none := inputs(map[string]property.Value{"create": property.New("x")})
	some := inputs(map[string]property.Value{"create": property.New("x"), "triggers": strs("a")})
	if k := diffOf(t, none, some).DetailedDiff["triggers"].Kind; k != p.AddReplace {
		t.Fatalf("added triggers: %s", k)
	}
	if k := diffOf(t, some, none).DetailedDiff["triggers"].Kind; k != p.DeleteReplace {
		t.Fatalf("removed triggers: %s", k)
	}
}

func TestDiffHonoursIgnoreChanges(t *testing.T) {
	olds := inputs(map[string]property.Value{"create": property.New("x"), "triggers": strs("a")})
	news := inputs(map[string]property.Value{"create": property.New("x"), "triggers": strs("b")})
	resp, err := diffCommand(context.Background(), p.DiffRequest{OldInputs: olds, Inputs: news, IgnoreChanges: []string{"triggers[0]"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.HasChanges {
		t.Fatalf("diff %+v, want none", resp)
	}
}
