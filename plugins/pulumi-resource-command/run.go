package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// defaultInterpreter is the one the official provider uses on Linux and macOS.
var defaultInterpreter = []string{"/bin/sh", "-c"}

// execution is everything one run of a command needs, decoupled from Pulumi types so that it
// can be tested on its own.
type execution struct {
	Command     string
	Interpreter []string
	Dir         string
	Environment map[string]string
	Stdin       string
	// Previous holds the last create/update's outputs, given to the command as
	// PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR when non-nil.
	Previous *previousOutput
	// LogStdout and LogStderr receive each line as it is written, for the engine's log.
	LogStdout func(line string)
	LogStderr func(line string)
}

type previousOutput struct{ Stdout, Stderr string }

// commandError is a command that ran and exited non-zero (or could not start); its message
// carries the command's output, since that is what a user needs to see in the engine's error.
type commandError struct {
	Command  string
	ExitCode int
	Stdout   string
	Stderr   string
	Err      error
}

func (e *commandError) Error() string {
	var b strings.Builder
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, "command exited with code %d: %q", e.ExitCode, e.Command)
	} else {
		fmt.Fprintf(&b, "command could not run: %q: %v", e.Command, e.Err)
	}
	if s := strings.TrimRight(e.Stdout, "\n"); s != "" {
		fmt.Fprintf(&b, "\nstdout:\n%s", s)
	}
	if s := strings.TrimRight(e.Stderr, "\n"); s != "" {
		fmt.Fprintf(&b, "\nstderr:\n%s", s)
	}
	return b.String()
}

func (e *commandError) Unwrap() error { return e.Err }

// run executes the command with its interpreter and returns its stdout and stderr, each with
// one trailing newline removed as the official provider does. A non-zero exit is a
// *commandError holding the output.
func run(ctx context.Context, x execution) (stdout, stderr string, err error) {
	interpreter := x.Interpreter
	if len(interpreter) == 0 {
		interpreter = defaultInterpreter
	}
	if x.Dir != "" {
		info, statErr := os.Stat(x.Dir)
		if statErr != nil {
			return "", "", fmt.Errorf("dir %q: %w", x.Dir, statErr)
		}
		if !info.IsDir() {
			return "", "", fmt.Errorf("dir %q is not a directory", x.Dir)
		}
	}
	args := append(append([]string{}, interpreter[1:]...), x.Command)
	cmd := exec.CommandContext(ctx, interpreter[0], args...)
	cmd.Dir = x.Dir
	cmd.Env = environment(os.Environ(), x.Environment, x.Previous)
	cmd.Stdin = strings.NewReader(x.Stdin)

	var outBuf, errBuf bytes.Buffer
	outLines, outDone := lineWriter(x.LogStdout)
	errLines, errDone := lineWriter(x.LogStderr)
	cmd.Stdout = io.MultiWriter(&outBuf, outLines)
	cmd.Stderr = io.MultiWriter(&errBuf, errLines)
	runErr := cmd.Run()
	_ = outLines.Close()
	_ = errLines.Close()
	outDone.Wait()
	errDone.Wait()

	stdout = strings.TrimSuffix(outBuf.String(), "\n")
	stderr = strings.TrimSuffix(errBuf.String(), "\n")
	if runErr != nil {
		code := -1
		var exitErr *exec.ExitError
		if errors.As(runErr, &exitErr) {
			code = exitErr.ExitCode()
		}
		return stdout, stderr, &commandError{Command: x.Command, ExitCode: code, Stdout: stdout, Stderr: stderr, Err: runErr}
	}
	return stdout, stderr, nil
}

// environment is the provider's own environment, then the previous outputs, then the
// resource's variables, later entries winning.
func environment(base []string, vars map[string]string, previous *previousOutput) []string {
	env := append([]string{}, base...)
	if previous != nil {
		env = append(env, "PULUMI_COMMAND_STDOUT="+previous.Stdout, "PULUMI_COMMAND_STDERR="+previous.Stderr)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// lineWriter returns a writer that calls log once per line written to it (nothing when log is
// nil) and a WaitGroup that is done once the writer is closed and drained.
func lineWriter(log func(string)) (io.WriteCloser, *sync.WaitGroup) {
	r, w := io.Pipe()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		scanner := bufio.NewScanner(r)
		scanner.Buffer(make([]byte, 64*1024), 1024*1024)
		for scanner.Scan() {
			if log != nil {
				log(scanner.Text())
			}
		}
		// Keep draining after an over-long line so the command never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, r)
	}()
	return w, &wg
}
