/**
 * The memory the container may use, for modelship_memory_limit_bytes: an analysis compares the
 * process's resident memory with it, so a leaking candidate is rolled back before it is killed.
 * MODELSHIP_MEMORY_LIMIT_BYTES when the deployer sets it, else the cgroup v2 limit when there is
 * one ("max" means none), else unknown and the gauge is not exported.
 */
import { readFileSync } from "fs";

export const CGROUP_MEMORY_MAX = "/sys/fs/cgroup/memory.max";

export function memoryLimit(configured: number | undefined, cgroupFile: string = CGROUP_MEMORY_MAX): number | undefined {
    if (configured !== undefined) return configured;
    let text: string;
    try {
        text = readFileSync(cgroupFile, "utf8").trim();
    } catch {
        return undefined;
    }
    return /^\d+$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
}
