/**
 * The `DEBUG` environment variable as the `debug` package reads it: names separated by commas or
 * spaces, `*` matching any run of characters, and a leading `-` excluding the names it matches
 * (an exclusion wins over every inclusion). `DEBUG=mcp-oauth*` enables every area of this
 * library; `DEBUG=mcp-oauth:session,mcp-oauth:token` two of them; `DEBUG=*,-mcp-oauth:http` all
 * but the raw request lines.
 */

/** `mcp-oauth:discovery` for `discovery.as.found`: the library's name and the event's first segment. */
export function namespaceOf(event: string): string {
  const area = /^[A-Za-z0-9_-]+/.exec(event)?.[0];
  return area === undefined ? 'mcp-oauth' : `mcp-oauth:${area}`;
}

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
}

/** Whether `DEBUG` enables a namespace; a missing or empty value enables none. */
export function parseDebugNamespaces(value: string | undefined): (namespace: string) => boolean {
  const included: RegExp[] = [];
  const excluded: RegExp[] = [];
  for (const name of (value ?? '').split(/[\s,]+/)) {
    if (name === '' || name === '-') continue;
    if (name.startsWith('-')) excluded.push(patternToRegExp(name.slice(1)));
    else included.push(patternToRegExp(name));
  }
  return (namespace) =>
    !excluded.some((pattern) => pattern.test(namespace)) &&
    included.some((pattern) => pattern.test(namespace));
}
