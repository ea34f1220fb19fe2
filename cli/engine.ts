/**
 * Runs the Pulumi CLI for a rollout's preview or update, so that an interrupt cancels it the way
 * Pulumi expects. The engine runs in a process group of its own, so a terminal's Ctrl-C reaches
 * only this process, and SIGINT, SIGTERM or SIGHUP (a closed terminal) here is passed on as
 * SIGINT: the first is Pulumi's "cancel gracefully", a second its "terminate now". The CLI's own
 * SIGTERM would end it at once; a closed terminal would not reach it and the update would go on
 * unwatched, with nobody to write the stack file after it.
 */
import { spawn, type ChildProcess } from "child_process";
import { ExitError } from "../tools/command-line";
import { exitCodeOfSignal } from "../tools/exit-codes";

/** The engine ran and failed; it has said why on stderr. */
export class EngineFailed extends Error {}

/** A signal ended the command. */
export class Interrupted extends ExitError {
    constructor(readonly signal: NodeJS.Signals) {
        super(`interrupted (${signal})`, exitCodeOfSignal(signal));
    }
}

const CAUGHT: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export class Engine {
    private child: ChildProcess | undefined;
    private received: NodeJS.Signals | undefined;
    private readonly onSignal = (signal: NodeJS.Signals): void => {
        this.received ??= signal;
        this.child?.kill("SIGINT");
    };

    private constructor(
        private readonly cwd: string,
        private readonly env: NodeJS.ProcessEnv,
    ) {}

    /**
     * Runs `body` with those signals caught for its whole length, so it always gets to clean
     * up, and what it does between two engine runs (write a file) is never cut in half. A signal
     * ends the session with Interrupted once the running engine has exited.
     */
    static async session<T>(cwd: string, env: NodeJS.ProcessEnv, body: (engine: Engine) => Promise<T>): Promise<T> {
        const engine = new Engine(cwd, env);
        for (const signal of CAUGHT) process.on(signal, engine.onSignal);
        try {
            const result = await body(engine);
            engine.throwIfInterrupted();
            return result;
        } finally {
            for (const signal of CAUGHT) process.off(signal, engine.onSignal);
        }
    }

    private throwIfInterrupted(): void {
        if (this.received) throw new Interrupted(this.received);
    }

    /**
     * `pulumi <args>` with its output passed through. Resolves when the engine exits 0 (an update
     * that completed is complete, interrupted or not); otherwise rejects with Interrupted or EngineFailed.
     */
    run(args: readonly string[]): Promise<void> {
        this.throwIfInterrupted();
        return new Promise((resolve, reject) => {
            const child = spawn("pulumi", [...args, "--non-interactive"], { cwd: this.cwd, env: this.env, detached: true, stdio: ["ignore", "inherit", "inherit"] });
            this.child = child;
            child.once("error", (error) => {
                this.child = undefined;
                reject(error);
            });
            child.once("close", (code, signal) => {
                this.child = undefined;
                if (code === 0) resolve();
                else if (this.received) reject(new Interrupted(this.received));
                else reject(new EngineFailed(`pulumi ${args[0]} failed (exit ${code ?? signal})`));
            });
        });
    }
}
