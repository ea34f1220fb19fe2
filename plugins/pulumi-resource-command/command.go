package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// commandArgs are command:local:Command's inputs, decoded; the names and types are those of
// @pulumi/command's CommandArgs (schema.json).
type commandArgs struct {
	Create, Update, Delete *string
	Interpreter            []string
	Dir                    string
	Environment            map[string]string
	Stdin                  string
	Logging                string
	AddPreviousOutputInEnv bool
}

// Which of the command's streams go to the engine's log; both are captured as outputs anyway.
const (
	loggingStdout          = "stdout"
	loggingStderr          = "stderr"
	loggingStdoutAndStderr = "stdoutAndStderr"
	loggingNone            = "none"
)

// unsupportedInputs are declared by the SDK but not implemented here: a program that sets them
// fails its check with this reason instead of silently getting no archive or assets.
var unsupportedInputs = []string{"archivePaths", "assetPaths"}

// decodeArgs reads the inputs, reporting each one of the wrong type. Unknown values (a preview
// of inputs computed from other resources) are skipped: they are checked once known.
func decodeArgs(m property.Map) (commandArgs, []p.CheckFailure) {
	args := commandArgs{Logging: loggingStdoutAndStderr, AddPreviousOutputInEnv: true}
	var failures []p.CheckFailure
	fail := func(key, format string, a ...any) {
		failures = append(failures, p.CheckFailure{Property: key, Reason: fmt.Sprintf(format, a...)})
	}
	str := func(key string, v property.Value) (string, bool) {
		if !v.IsString() {
			fail(key, "%s must be a string", key)
			return "", false
		}
		return v.AsString(), true
	}
	strList := func(key string, v property.Value) ([]string, bool) {
		if !v.IsArray() {
			fail(key, "%s must be a list of strings", key)
			return nil, false
		}
		out := []string{}
		for i, item := range v.AsArray().All {
			if item.IsComputed() {
				continue
			}
			if !item.IsString() {
				fail(fmt.Sprintf("%s[%d]", key, i), "%s[%d] must be a string", key, i)
				return nil, false
			}
			out = append(out, item.AsString())
		}
		return out, true
	}
	for key, v := range m.All {
		if v.IsNull() || v.IsComputed() || strings.HasPrefix(key, "__") {
			continue
		}
		switch key {
		case "create", "update", "delete":
			if s, ok := str(key, v); ok {
				switch key {
				case "create":
					args.Create = &s
				case "update":
					args.Update = &s
				case "delete":
					args.Delete = &s
				}
			}
		case "dir":
			args.Dir, _ = str(key, v)
		case "stdin":
			args.Stdin, _ = str(key, v)
		case "logging":
			if s, ok := str(key, v); ok {
				switch s {
				case loggingStdout, loggingStderr, loggingStdoutAndStderr, loggingNone:
					args.Logging = s
				default:
					fail(key, "logging %q is not one of %s, %s, %s, %s", s, loggingStdout, loggingStderr, loggingStdoutAndStderr, loggingNone)
				}
			}
		case "interpreter":
			if list, ok := strList(key, v); ok {
				if len(list) == 0 && !v.HasComputed() {
					fail(key, `interpreter must name a program, e.g. ["/bin/sh", "-c"]`)
				}
				args.Interpreter = list
			}
		case "environment":
			if !v.IsMap() {
				fail(key, "environment must be a map of strings")
				continue
			}
			args.Environment = map[string]string{}
			for name, value := range v.AsMap().All {
				if value.IsComputed() {
					continue
				}
				if !value.IsString() {
					fail("environment."+name, "environment.%s must be a string", name)
					continue
				}
				args.Environment[name] = value.AsString()
			}
		case "addPreviousOutputInEnv":
			if !v.IsBool() {
				fail(key, "addPreviousOutputInEnv must be a boolean")
				continue
			}
			args.AddPreviousOutputInEnv = v.AsBool()
		case "archivePaths", "assetPaths":
			if list, ok := strList(key, v); ok && len(list) > 0 {
				fail(key, "%s is not supported by this project's pulumi-resource-command "+
					"(engine/pulumi-resource-command); remove it, or install the official command plugin", key)
			}
		case "triggers":
			if !v.IsArray() {
				fail(key, "triggers must be a list")
			}
		case "stdout", "stderr", "archive", "assets":
			// Outputs: present when the engine passes a previous state back as inputs (import).
		default:
			fail(key, "%s is not an input of command:local:Command", key)
		}
	}
	return args, failures
}

func check(_ context.Context, req p.CheckRequest) (p.CheckResponse, error) {
	inputs := req.Inputs
	if _, ok := inputs.GetOk("addPreviousOutputInEnv"); !ok {
		inputs = inputs.Set("addPreviousOutputInEnv", property.New(true))
	}
	_, failures := decodeArgs(inputs)
	return p.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

func create(ctx context.Context, req p.CreateRequest) (p.CreateResponse, error) {
	id, err := resourceID(req.Urn.Name())
	if err != nil {
		return p.CreateResponse{}, err
	}
	args, failures := decodeArgs(req.Properties)
	if len(failures) > 0 {
		return p.CreateResponse{}, checkError(failures)
	}
	if req.DryRun {
		return p.CreateResponse{ID: id, Properties: withOutput(req.Properties, unknown, unknown)}, nil
	}
	var stdout, stderr string
	if args.Create != nil {
		stdout, stderr, err = run(ctx, executionFor(ctx, *args.Create, args, nil))
		if err != nil {
			return p.CreateResponse{}, err
		}
	}
	return p.CreateResponse{ID: id, Properties: withOutput(req.Properties, property.New(stdout), property.New(stderr))}, nil
}

// update runs `update`, or `create` when there is no update command, as the official provider
// does; with neither, the new inputs are recorded and the previous output kept.
func update(ctx context.Context, req p.UpdateRequest) (p.UpdateResponse, error) {
	args, failures := decodeArgs(req.Inputs)
	if len(failures) > 0 {
		return p.UpdateResponse{}, checkError(failures)
	}
	command := args.Update
	if command == nil {
		command = args.Create
	}
	if command == nil {
		return p.UpdateResponse{Properties: withOutput(req.Inputs, req.State.Get("stdout"), req.State.Get("stderr"))}, nil
	}
	if req.DryRun {
		return p.UpdateResponse{Properties: withOutput(req.Inputs, unknown, unknown)}, nil
	}
	stdout, stderr, err := run(ctx, executionFor(ctx, *command, args, previousOf(req.State)))
	if err != nil {
		return p.UpdateResponse{}, err
	}
	return p.UpdateResponse{Properties: withOutput(req.Inputs, property.New(stdout), property.New(stderr))}, nil
}

func deleteCommand(ctx context.Context, req p.DeleteRequest) error {
	args, failures := decodeArgs(req.Properties)
	if len(failures) > 0 {
		return checkError(failures)
	}
	if args.Delete == nil {
		return nil
	}
	_, _, err := run(ctx, executionFor(ctx, *args.Delete, args, previousOf(req.Properties)))
	return err
}

// read keeps the recorded state: a command leaves nothing behind to read back.
func read(_ context.Context, req p.ReadRequest) (p.ReadResponse, error) {
	return p.ReadResponse{ID: req.ID, Properties: req.Properties, Inputs: req.Inputs}, nil
}

var unknown = property.New(property.Computed)

func withOutput(inputs property.Map, stdout, stderr property.Value) property.Map {
	return inputs.Set("stdout", stdout).Set("stderr", stderr)
}

func previousOf(state property.Map) *previousOutput {
	text := func(key string) string {
		if v := state.Get(key); v.IsString() {
			return v.AsString()
		}
		return ""
	}
	return &previousOutput{Stdout: text("stdout"), Stderr: text("stderr")}
}

func checkError(failures []p.CheckFailure) error {
	reasons := make([]string, len(failures))
	for i, f := range failures {
		reasons[i] = f.Reason
	}
	return fmt.Errorf("invalid inputs: %s", strings.Join(reasons, "; "))
}

// executionFor turns the inputs into a run; previous is the output of the last create or
// update, given to the command unless addPreviousOutputInEnv is false.
func executionFor(ctx context.Context, command string, args commandArgs, previous *previousOutput) execution {
	x := execution{
		Command:     command,
		Interpreter: args.Interpreter,
		Dir:         args.Dir,
		Environment: args.Environment,
		Stdin:       args.Stdin,
	}
	if args.AddPreviousOutputInEnv {
		x.Previous = previous
	}
	logger := p.GetLogger(ctx)
	if args.Logging == loggingStdout || args.Logging == loggingStdoutAndStderr {
		x.LogStdout = logger.Info
	}
	if args.Logging == loggingStderr || args.Logging == loggingStdoutAndStderr {
		x.LogStderr = logger.Info
	}
	return x
}

// resourceID is the resource's name and a random suffix: a command has no identity of its own,
// and a replacement must not share its predecessor's id.
func resourceID(name string) (string, error) {
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", err
	}
	return name + "-" + hex.EncodeToString(suffix), nil
}
