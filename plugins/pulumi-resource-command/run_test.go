package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunCapturesStdoutAndStderrWithoutTheTrailingNewline(t *testing.T) {
	stdout, stderr, err := run(context.Background(), execution{Command: "echo out; echo err >&2"})
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "out" || stderr != "err" {
		t.Fatalf("stdout %q stderr %q, want \"out\" and \"err\"", stdout, stderr)
	}
}

func TestRunAddsTheEnvironmentToTheProvidersOwn(t *testing.T) {
	t.Setenv("MODELSHIP_FROM_PROVIDER", "inherited")
	t.Setenv("MODELSHIP_OVERRIDDEN", "provider")
	stdout, _, err := run(context.Background(), execution{
		Command:     `printf '%s %s %s' "$MODELSHIP_FROM_PROVIDER" "$MODELSHIP_OVERRIDDEN" "$GREETING"`,
		Environment: map[string]string{"MODELSHIP_OVERRIDDEN": "resource", "GREETING": "hello world"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "inherited resource hello world" {
		t.Fatalf("stdout %q", stdout)
	}
}

func TestRunRunsInDir(t *testing.T) {
	dir := t.TempDir()
	stdout, _, err := run(context.Background(), execution{Command: "pwd -P", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(dir)
	if stdout != want {
		t.Fatalf("pwd %q, want %q", stdout, want)
	}
}

func TestRunFailsForADirThatDoesNotExist(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	_, _, err := run(context.Background(), execution{Command: "true", Dir: missing})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err %v, want one naming %s", err, missing)
	}
}

func TestRunUsesTheInterpreter(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "interp")
	// An interpreter that prints its arguments, one per line: the command comes last, whole.
	if err := os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(context.Background(), execution{Command: "echo a b", Interpreter: []string{script, "-x"}})
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "[-x]\n[echo a b]" {
		t.Fatalf("stdout %q", stdout)
	}
}

func TestRunPassesStdin(t *testing.T) {
	stdout, _, err := run(context.Background(), execution{Command: "tr a-z A-Z", Stdin: "piped"})
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "PIPED" {
		t.Fatalf("stdout %q", stdout)
	}
}

func TestRunGivesThePreviousOutputOnlyWhenAsked(t *testing.T) {
	cmd := `printf '%s|%s' "${PULUMI_COMMAND_STDOUT-unset}" "${PULUMI_COMMAND_STDERR-unset}"`
	stdout, _, err := run(context.Background(), execution{Command: cmd, Previous: &previousOutput{Stdout: "o", Stderr: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "o|e" {
		t.Fatalf("with previous output: %q", stdout)
	}
	t.Setenv("PULUMI_COMMAND_STDOUT", "")
	os.Unsetenv("PULUMI_COMMAND_STDOUT")
	stdout, _, err = run(context.Background(), execution{Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "unset|unset" {
		t.Fatalf("without previous output: %q", stdout)
	}
}

func TestRunFailureCarriesExitCodeAndOutput(t *testing.T) {
	stdout, stderr, err := run(context.Background(), execution{Command: "echo progress; echo 'gate failed: 3 findings' >&2; exit 3"})
	var cmdErr *commandError
	if !errors.As(err, &cmdErr) {
		t.Fatalf("err %v (%T), want a *commandError", err, err)
	}
	if cmdErr.ExitCode != 3 || stdout != "progress" || stderr != "gate failed: 3 findings" {
		t.Fatalf("code %d stdout %q stderr %q", cmdErr.ExitCode, stdout, stderr)
	}
	for _, want := range []string{"exited with code 3", "progress", "gate failed: 3 findings"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err.Error(), want)
		}
	}
}

func TestRunFailsWhenTheInterpreterIsMissing(t *testing.T) {
	_, _, err := run(context.Background(), execution{Command: "true", Interpreter: []string{"/nonexistent/sh", "-c"}})
	if err == nil || !strings.Contains(err.Error(), "could not run") {
		t.Fatalf("err %v", err)
	}
}

func TestRunLogsEachLineToItsStream(t *testing.T) {
	var out, errs []string
	_, _, err := run(context.Background(), execution{
		Command:   "echo one; echo two; echo three >&2",
		LogStdout: func(l string) { out = append(out, l) },
		LogStderr: func(l string) { errs = append(errs, l) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(out, ",") != "one,two" || strings.Join(errs, ",") != "three" {
		t.Fatalf("logged stdout %q stderr %q", out, errs)
	}
}
