package main

import (
	"context"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// replacingInputs are the inputs whose change replaces the command (its delete command runs,
// then its create command) instead of updating it.
var replacingInputs = map[string]bool{"triggers": true}

// diffCommand compares the previous inputs with the new ones key by key. It is the provider's
// own because infer's generic diff reports changes inside a list by element path
// (`triggers[0]`), which its replaceOnChanges lookup does not match: a changed trigger would
// update instead of replace. A value unknown during preview counts as a change.
func diffCommand(_ context.Context, req p.DiffRequest) (p.DiffResponse, error) {
	olds := req.OldInputs
	if olds.Len() == 0 {
		// An engine that does not send old inputs: the state holds them under the same names.
		olds = req.State
	}
	news := req.Inputs
	for _, path := range req.IgnoreChanges {
		key := topLevelKey(path)
		if v, ok := olds.GetOk(key); ok {
			news = news.Set(key, v)
		} else {
			news = news.Delete(key)
		}
	}

	detailed := map[string]p.PropertyDiff{}
	keys := map[string]bool{}
	for k := range news.All {
		keys[k] = true
	}
	for k := range req.OldInputs.All {
		keys[k] = true
	}
	for k := range keys {
		if strings.HasPrefix(k, "__") {
			continue
		}
		oldValue, hadOld := olds.GetOk(k)
		newValue, hasNew := news.GetOk(k)
		hadOld = hadOld && !oldValue.IsNull()
		hasNew = hasNew && !newValue.IsNull()
		var kind p.DiffKind
		switch {
		case !hadOld && !hasNew:
			continue
		case !hadOld:
			kind = p.Add
		case !hasNew:
			kind = p.Delete
		case newValue.HasComputed() || !sameValue(oldValue, newValue):
			kind = p.Update
		default:
			continue
		}
		if replacingInputs[k] {
			kind = asReplace(kind)
		}
		detailed[k] = p.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return p.DiffResponse{HasChanges: len(detailed) > 0, DetailedDiff: detailed}, nil
}

// sameValue compares two values for a diff: whether one is a secret and which resources it
// came from do not change the command.
func sameValue(a, b property.Value) bool {
	return plain(a).Equals(plain(b))
}

func plain(v property.Value) property.Value {
	v = v.WithSecret(false).WithDependencies(nil)
	switch {
	case v.IsArray():
		items := v.AsArray().AsSlice()
		out := make([]property.Value, len(items))
		for i, item := range items {
			out[i] = plain(item)
		}
		return property.New(property.NewArray(out))
	case v.IsMap():
		out := map[string]property.Value{}
		for k, item := range v.AsMap().All {
			out[k] = plain(item)
		}
		return property.New(property.NewMap(out))
	}
	return v
}

func asReplace(kind p.DiffKind) p.DiffKind {
	switch kind {
	case p.Add:
		return p.AddReplace
	case p.Delete:
		return p.DeleteReplace
	case p.Update:
		return p.UpdateReplace
	}
	return kind
}

// topLevelKey is the input an ignoreChanges path starts with (`triggers[0]` -> `triggers`).
func topLevelKey(path string) string {
	if i := strings.IndexAny(path, ".["); i > 0 {
		return path[:i]
	}
	return path
}
