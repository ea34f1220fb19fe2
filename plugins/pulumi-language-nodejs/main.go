// pulumi-language-nodejs runs Node.js Pulumi programs and policy packs for the
// Pulumi engine on machines where the released language host cannot be
// installed. It implements the parts of the LanguageRuntime service that
// `pulumi up`, `preview`, `destroy` and `--policy-pack` use; code generation,
// packing and dependency installation are answered as unimplemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time to the @pulumi/pulumi version it serves.
var version = "0.0.0-dev"

// The SDK's run script exits with this code after it has already shown the
// user an actionable message; the engine then stops without adding its own.
const exitedAfterUserMessage = 32

func main() {
	flag.String("tracing", "", "accepted for compatibility; tracing is not forwarded")
	flag.String("root", "", "accepted for compatibility; the engine also sends it in Handshake")
	flag.Parse()

	host := &languageHost{}
	if flag.NArg() > 0 {
		host.engineAddress = flag.Arg(0)
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not serve: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: stopped serving: %v\n", err)
		os.Exit(1)
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *languageHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := resourcePackages(programDirectory(req.GetInfo(), req.GetProgram()))
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages))
	for _, p := range packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: "resource", Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *languageHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := resourcePackages(programDirectory(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	deps := make([]*pulumirpc.PackageDependency, 0, len(packages))
	for _, p := range packages {
		deps = append(deps, &pulumirpc.PackageDependency{
			Name: p.Name, Kind: "resource", Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

func programDirectory(info *pulumirpc.ProgramInfo, fallback string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if fallback != "" {
		return fallback
	}
	return "."
}

// Run executes the program with the SDK's run script, the way the released
// language host does: flags for the engine and monitor, config in the
// environment, stdout and stderr passed through.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	programDir := programDirectory(req.GetInfo(), req.GetPwd())
	runScript, err := sdkScript(programDir, "run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	entryPoint := "."
	if req.GetInfo() != nil && req.GetInfo().GetEntryPoint() != "" {
		entryPoint = req.GetInfo().GetEntryPoint()
	} else if req.GetProgram() != "" {
		entryPoint = req.GetProgram()
	}

	args := []string{runScript}
	flagIfSet := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagIfSet("monitor", req.GetMonitorAddress())
	flagIfSet("engine", h.engineAddress)
	flagIfSet("organization", req.GetOrganization())
	flagIfSet("project", req.GetProject())
	if req.GetInfo() != nil {
		flagIfSet("root-directory", req.GetInfo().GetRootDirectory())
	}
	flagIfSet("stack", req.GetStack())
	flagIfSet("pwd", programDir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagIfSet("parallel", strconv.Itoa(int(req.GetParallel())))
	args = append(args, entryPoint)
	args = append(args, req.GetArgs()...)

	configJSON, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("serialising config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serialising secret config keys: %w", err)
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
	)
	env = append(env, runtimeOptionEnv(req.GetInfo())...)

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = programDir
	cmd.Env = env
	// Wrapping the writers keeps node's non-blocking stdio from reaching ours.
	cmd.Stdout = struct{ *os.File }{os.Stdout}
	cmd.Stderr = struct{ *os.File }{os.Stderr}
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				if ws.ExitStatus() == exitedAfterUserMessage {
					return &pulumirpc.RunResponse{Bail: true}, nil
				}
				return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", ws.ExitStatus())}, nil
			}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the program with node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin starts a policy pack (the only kind of Node.js plugin this
// project runs). The engine's new-style handshake and stack configuration
// are answered by the SDK's policy proxy, which then starts the pack with the
// environment the @pulumi/policy library reads.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	programDir := programDirectory(req.GetInfo(), req.GetPwd())
	runScript := "run-plugin"
	if req.GetKind() == "analyzer" {
		runScript = "run-policy-pack"
	}
	script, err := sdkScript(programDir, runScript)
	if err != nil {
		return err
	}
	env := append(append([]string{}, req.GetEnv()...), runtimeOptionEnv(req.GetInfo())...)

	args := []string{script}
	var proxy *sdk.PolicyProxy
	if req.GetKind() == "analyzer" {
		args = append(args, req.GetArgs()...)
		args = append(args, programDir)
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		stackConfig, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration: %w", err)
		}
		if stackConfig != nil {
			env = append(env, policyEnv(stackConfig)...)
		}
	} else {
		args = append(args, programDir)
		args = append(args, req.GetArgs()...)
	}

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start node: %w", err)
	}
	if proxy != nil {
		if err := proxy.Attach(ctx, cmd); err != nil {
			return fmt.Errorf("could not attach to the policy pack: %w", err)
		}
		return closer.Close()
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("plugin exited: %w", err)
	}
	return closer.Close()
}

func policyEnv(c *pulumirpc.AnalyzerStackConfigureRequest) []string {
	var env []string
	setIf := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	setIf("PULUMI_NODEJS_ORGANIZATION", c.GetOrganization())
	setIf("PULUMI_NODEJS_PROJECT", c.GetProject())
	setIf("PULUMI_NODEJS_STACK", c.GetStack())
	setIf("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(c.GetDryRun()))
	if c.GetConfig() != nil {
		if b, err := json.Marshal(c.GetConfig()); err == nil {
			setIf("PULUMI_CONFIG", string(b))
		}
	}
	return env
}

// runtimeOptionEnv turns Pulumi.yaml runtime options into the variables the
// SDK's run script reads. TypeScript is on unless the project turns it off,
// as with the released host.
func runtimeOptionEnv(info *pulumirpc.ProgramInfo) []string {
	typescript := true
	var env []string
	if info != nil && info.GetOptions() != nil {
		opts := info.GetOptions().AsMap()
		if v, ok := opts["typescript"].(bool); ok {
			typescript = v
		}
		if v, ok := opts["tsconfig"].(string); ok && v != "" {
			env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+v)
		}
	}
	if typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	return env
}

// sdkScript finds one of @pulumi/pulumi's cmd/ scripts from the program's own
// node_modules, walking up like Node's resolution does.
func sdkScript(programDir, name string) (string, error) {
	dir, err := filepath.Abs(programDir)
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", status.Errorf(codes.FailedPrecondition,
				"@pulumi/pulumi is not installed for %s: run npm ci there first", programDir)
		}
		dir = parent
	}
}
