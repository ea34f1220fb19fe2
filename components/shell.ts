/** Single-quoted for bash, whatever the value holds: the one quoting rule for every generated command. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}
