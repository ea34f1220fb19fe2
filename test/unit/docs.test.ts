/**
 * The documentation's links hold: every relative link and #anchor in the project's markdown files
 * resolves, and the README's map names every page under docs/.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { anchors, brokenLinks, markdownFiles, slug } from "../support/markdown-links";

const projectDir = path.resolve(__dirname, "..", "..", "..");

describe("documentation links", () => {
    it("every relative link and anchor in the project's markdown files resolves", () => {
        const files = markdownFiles(projectDir);
        assert.ok(files.includes("README.md") && files.includes(path.join("docs", "config.md")), `found ${files.join(", ")}`);
        assert.deepEqual(brokenLinks(projectDir, files), []);
    });

    it("the README's map links every page under docs/", () => {
        const readme = fs.readFileSync(path.join(projectDir, "README.md"), "utf8");
        const linked = new Set([...readme.matchAll(/\]\(docs\/([^)#]+\.md)(?:#[^)]*)?\)/g)].map(([, page]) => page));
        const pages = fs.readdirSync(path.join(projectDir, "docs")).filter((name) => name.endsWith(".md"));
        assert.deepEqual(
            pages.filter((page) => !linked.has(page)),
            [],
        );
    });

    it("a missing file and a missing anchor are reported; code, URLs and numbered repeats are not", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-docs-"));
        try {
            fs.mkdirSync(path.join(dir, "docs"));
            fs.writeFileSync(path.join(dir, "docs", "page.md"), "# Page\n\n## `npm run up` (dev stack)\n\n## Notes\n\n## Notes\n\n```sh\n# not a heading\n```\n");
            fs.writeFileSync(
                path.join(dir, "README.md"),
                [
                    "# Title",
                    "",
                    "[fine](docs/page.md#npm-run-up-dev-stack), [repeat](docs/page.md#notes-1), [self](#title), [folder](docs/), [web](https://example.com/missing.md)",
                    "[gone](docs/missing.md) and `[code](docs/nowhere.md)`",
                    "[no anchor](docs/page.md#not-a-heading)",
                    "```",
                    "[fenced](docs/nowhere.md)",
                    "```",
                    "[ref]: docs/gone-too.md",
                ].join("\n"),
            );
            assert.deepEqual(brokenLinks(dir, markdownFiles(dir)), [
                { file: "README.md", line: 4, target: "docs/missing.md", problem: "no file docs/missing.md" },
                { file: "README.md", line: 5, target: "docs/page.md#not-a-heading", problem: "no heading with anchor #not-a-heading in docs/page.md" },
                { file: "README.md", line: 9, target: "docs/gone-too.md", problem: "no file docs/gone-too.md" },
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("anchors are GitHub's: lower case, punctuation dropped, spaces as hyphens", () => {
        assert.equal(slug("The dev stack on a machine without Docker Hub"), "the-dev-stack-on-a-machine-without-docker-hub");
        assert.equal(slug("`npm run render -- --stack <name>`"), "npm-run-render------stack-name");
        assert.equal(slug("Images and the [model server](x.md)"), "images-and-the-model-server");
        assert.deepEqual([...anchors("# A\n## A\n## A\n")], ["a", "a-1", "a-2"]);
    });
});
