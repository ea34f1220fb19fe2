/**
 * Relative links and #anchors in markdown files, checked the way GitHub renders them: a link
 * resolves when its file (or folder) exists and, for a markdown file, when the anchor is one of
 * its headings' slugs. Links inside code (fenced blocks and inline spans) are text, not links.
 */
import * as fs from "fs";
import * as path from "path";

/** A link that does not resolve: where it is written, what it points at, and why it fails. */
export interface BrokenLink {
    file: string;
    line: number;
    target: string;
    problem: string;
}

/** Folders that hold no project documentation: dependencies, build output, state. */
const SKIPPED_DIRS = new Set(["node_modules", "dist", "out"]);

/** Every `.md` file under `root`, relative to it, outside dependencies, build output and dot-folders. */
export function markdownFiles(root: string, dir = ""): string[] {
    const found: string[] = [];
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const relative = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            if (!entry.name.startsWith(".") && !SKIPPED_DIRS.has(entry.name)) found.push(...markdownFiles(root, relative));
        } else if (entry.name.endsWith(".md")) {
            found.push(relative);
        }
    }
    return found.sort();
}

/** Which lines are inside a fenced code block, fences included. */
function fencedLines(lines: string[]): boolean[] {
    let fence: string | undefined;
    return lines.map((line) => {
        const opener = /^ {0,3}(```+|~~~+)/.exec(line)?.[1];
        if (opener && (fence === undefined || opener.startsWith(fence))) {
            fence = fence === undefined ? opener : undefined;
            return true;
        }
        return fence !== undefined;
    });
}

/** The text with fenced code blocks and inline code spans blanked, line breaks kept so line numbers hold. */
function withoutCode(text: string): string {
    const lines = text.split("\n");
    const fenced = fencedLines(lines);
    const prose = lines.map((line, i) => (fenced[i] ? "" : line)).join("\n");
    return prose.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, (code) => code.replace(/[^\n]/g, " "));
}

/** GitHub's anchor for a heading's text: inline markup dropped, lower case, punctuation removed, spaces as hyphens. */
export function slug(heading: string): string {
    return heading
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/[`*]/g, "")
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** The anchors a markdown text offers: its headings' slugs (repeats numbered as GitHub does) and explicit ids. */
export function anchors(text: string): Set<string> {
    const found = new Set<string>();
    const seen = new Map<string, number>();
    const lines = text.split("\n");
    const fenced = fencedLines(lines);
    for (const [i, line] of lines.entries()) {
        if (fenced[i]) continue;
        const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
        if (heading === undefined) continue;
        const base = slug(heading);
        const count = seen.get(base) ?? 0;
        seen.set(base, count + 1);
        found.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const [, id] of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) found.add(id);
    return found;
}

/** Every broken relative link and anchor in the given markdown files (paths relative to `root`). */
export function brokenLinks(root: string, files: string[]): BrokenLink[] {
    const broken: BrokenLink[] = [];
    const anchorsOf = new Map<string, Set<string>>();
    const anchorsIn = (file: string) => {
        let known = anchorsOf.get(file);
        if (!known) {
            known = anchors(fs.readFileSync(file, "utf8"));
            anchorsOf.set(file, known);
        }
        return known;
    };
    for (const file of files) {
        const absolute = path.join(root, file);
        const text = withoutCode(fs.readFileSync(absolute, "utf8"));
        const links = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g), ...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)];
        for (const link of links) {
            const target = link[1];
            if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
            const line = text.slice(0, link.index).split("\n").length;
            const hash = target.indexOf("#");
            const filePart = decodeURIComponent(hash >= 0 ? target.slice(0, hash) : target);
            const anchor = hash >= 0 ? decodeURIComponent(target.slice(hash + 1)) : undefined;
            const resolved = filePart === "" ? absolute : path.resolve(path.dirname(absolute), filePart);
            if (filePart !== "" && !fs.existsSync(resolved)) {
                broken.push({ file, line, target, problem: `no file ${path.relative(root, resolved)}` });
            } else if (anchor !== undefined && resolved.endsWith(".md") && !anchorsIn(resolved).has(anchor)) {
                broken.push({ file, line, target, problem: `no heading with anchor #${anchor} in ${path.relative(root, resolved)}` });
            }
        }
    }
    return broken;
}
