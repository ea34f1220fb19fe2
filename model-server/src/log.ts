/** JSON logs: one line per event on stdout, {"time","level","event","msg", ...fields}. */

export type Level = "debug" | "info" | "warn" | "error";

export type Fields = Readonly<Record<string, unknown>>;

export interface Logger {
    log(level: Level, event: string, msg: string, fields?: Fields): void;
}

/** A logger that writes each event as one JSON line, with `base` (model, version, track) on every line. */
export function jsonLogger(base: Fields = {}, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
    return {
        log(level, event, msg, fields = {}) {
            const record = { time: new Date().toISOString(), level, event, msg, ...base, ...fields };
            let line: string;
            try {
                line = JSON.stringify(record, errorReplacer);
            } catch {
                line = JSON.stringify({ time: record.time, level, event, msg, ...base, note: "fields could not be serialised" });
            }
            write(`${line}\n`);
        },
    };
}

export const silentLogger: Logger = { log() {} };

function errorReplacer(_key: string, value: unknown): unknown {
    if (value instanceof Error) return { name: value.name, message: value.message };
    if (typeof value === "bigint") return value.toString();
    return value;
}
