import type { ChildProcess } from "child_process";
import { sleep } from "./http";

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`: a test's daemon never outlives it. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await Promise.race([exited, sleep(graceMs)]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
