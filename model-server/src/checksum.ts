/**
 * The checksum rule for model artifacts: `model.json.sha256` beside every `model.json` holds its
 * SHA-256 in hex, alone or in `sha256sum` format (`<hex>  model.json`). Pure.
 */
import { createHash } from "crypto";

/** What is appended to an artifact file's name to name its checksum file. */
export const CHECKSUM_SUFFIX = ".sha256";

export function sha256Hex(data: Buffer | string): string {
    return createHash("sha256").update(data).digest("hex");
}

/** The checksum file's text for a file: `sha256sum` format, so `sha256sum -c` checks it too. */
export function checksumFileText(data: Buffer | string, fileName: string): string {
    return `${sha256Hex(data)}  ${fileName}\n`;
}

/**
 * The lowercase hex digest a checksum file records, or a sentence saying why it records none.
 * Accepts `<hex>`, `<hex>  <name>` and `<hex> *<name>` (binary mode), one line.
 */
export function parseChecksumFile(text: string): { digest: string } | { problem: string } {
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
    if (lines.length !== 1) return { problem: `holds ${lines.length} non-empty lines, expected one line "<sha256 hex>  model.json"` };
    const match = /^([0-9A-Fa-f]{64})(?:\s+\*?\S.*)?$/.exec(lines[0]!.trim());
    if (!match) return { problem: `does not start with a 64-digit SHA-256 hex digest (got ${JSON.stringify(lines[0]!.slice(0, 80))})` };
    return { digest: match[1]!.toLowerCase() };
}
