#!/usr/bin/env node
// Writes model.json.sha256 (sha256sum format) beside every model.json under models/, the checksum
// the artifact initializer (src/fetch-artifact.ts) verifies. Run it after editing a shipped model:
//   npm run build && node scripts/write-checksums.mjs        (from model-server/)
// The format is src/checksum.ts's, read from the build so there is one definition of it.
// test/checksums.test.ts fails while any shipped model.json lacks a matching checksum.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import checksum from "../dist/src/checksum.js";

const models = join(dirname(fileURLToPath(import.meta.url)), "..", "models");
for (const entry of readdirSync(models, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== "model.json") continue;
    const file = join(entry.parentPath, entry.name);
    const text = checksum.checksumFileText(readFileSync(file), entry.name);
    writeFileSync(file + checksum.CHECKSUM_SUFFIX, text);
    process.stdout.write(`${file}${checksum.CHECKSUM_SUFFIX}: ${text}`);
}
