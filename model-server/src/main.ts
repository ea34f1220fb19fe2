/**
 * Entry point: reads the environment, starts listening (the `start` log line carries the bound
 * port), loads the model in the background, and shuts down gracefully on SIGTERM or SIGINT.
 * Exit codes: 0 after a clean shutdown, 1 for an invalid environment, a port that cannot be bound,
 * an unexpected crash, or a shutdown that had to cut requests after SHUTDOWN_TIMEOUT_MS.
 */
import { ConfigError, parseConfig } from "./config";
import { jsonLogger } from "./log";
import { createServer } from "./server";

async function main(): Promise<number | undefined> {
    let config;
    try {
        config = parseConfig(process.env);
    } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        jsonLogger({}).log("error", "config_invalid", error.message, { problems: error.problems });
        process.stderr.write(`model-server: ${error.message}\n`);
        return 1;
    }
    const log = jsonLogger({ model: config.modelName, version: config.modelVersion, track: config.track });
    const server = createServer({ config, log });

    process.on("uncaughtException", (error) => {
        log.log("error", "crash", `uncaught exception: ${error.message}`, { error, stack: error.stack });
        process.exit(1);
    });
    process.on("unhandledRejection", (reason) => {
        log.log("error", "unhandled_rejection", `unhandled promise rejection: ${String((reason as Error)?.message ?? reason)}`, { error: reason });
    });

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
            log.log("warn", "signal_ignored", `${signal} received while already shutting down`, { signal });
            return;
        }
        void server.shutdown(signal).then(({ forced }) => process.exit(forced ? 1 : 0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);

    try {
        await server.listen();
    } catch (error) {
        const e = error as NodeJS.ErrnoException;
        log.log("error", "listen_failed", `cannot listen on ${config.host}:${config.port}: ${e.code ?? e.message}`, { host: config.host, port: config.port, error: e });
        return 1;
    }
    void server.load();
    return undefined;
}

main().then(
    (code) => {
        if (code !== undefined) process.exit(code);
    },
    (error: Error) => {
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", event: "crash", msg: error.message })}\n`);
        process.exit(1);
    },
);
