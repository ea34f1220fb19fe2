/**
 * The exit codes of every command of the project (the CLI, the npm scripts' tools, the gate
 * programs): scripts and pipelines branch on them, so each has one name and one value.
 */
import * as os from "os";

/** Done; for a gate, passed (an advisory NOT RUN included). */
export const EXIT_OK = 0;
/** The command ran and failed: a gate failed, a mandatory policy was violated, a rollout stopped. */
export const EXIT_FAILED = 1;
/** The command line is wrong; the message and the usage are on stderr. */
export const EXIT_USAGE = 2;
/** A prerequisite is missing (the Pulumi CLI, the Docker engine), distinct from a failed deployment. */
export const EXIT_MISSING_PREREQUISITE = 2;
/** `npm run policy` could not check the stack (a bad stack config, no policy config), apart from a violation. */
export const EXIT_CANNOT_RUN = 2;

/** A signal ended the command: 128 + the signal's number, as a shell reports it (130 for Ctrl-C). */
export function exitCodeOfSignal(signal: NodeJS.Signals): number {
    return 128 + (os.constants.signals[signal] ?? 0);
}
