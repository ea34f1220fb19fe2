/** `--flag value` and `--flag=value` parsing for the project's small command-line tools. */

export type FlagSpec<K extends string> = Readonly<Record<string, K>>;

export function parseFlags<K extends string>(argv: readonly string[], flags: FlagSpec<K>, usage: string): Partial<Record<K, string>> {
    const values: Partial<Record<K, string>> = {};
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        const key = flags[flag];
        if (!key) throw new Error(`unknown argument ${argv[i]}\n${usage}`);
        const value = inline ?? argv[++i];
        if (value === undefined) throw new Error(`${flag} needs a value\n${usage}`);
        values[key] = value;
    }
    return values;
}
