/**
 * README examples, run against the demo server (or another MCP server on loopback): the code of a README's ts blocks becomes a module
 * whose example URLs point at the demo, whose browser step is played headlessly, and whose exports
 * the test then checks. Only URLs and the browser change; everything else runs as written.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Where an example's URLs point: a demo server, or another MCP server on loopback. */
export interface ExampleServer {
  readonly mcpUrl: string;
  readonly issuer?: string;
}

export interface ExampleRunOptions {
  /**
   * `https://mcp.example.com/mcp` (and that origin) becomes the server's MCP URL,
   * `https://auth.example.com` its issuer. Without it, the example's URLs stay.
   */
  readonly server?: ExampleServer;
  /**
   * The package whose dependencies the example imports: the module is written to its
   * `.readme-run/` directory (ignored by git), so that its imports resolve as the package's do.
   */
  readonly packageDirectory: URL;
  /** Further replacements, applied first. Each must occur in the code. */
  readonly replace?: ReadonlyArray<readonly [from: string, to: string]>;
}

/** The code of every ```ts block of a Markdown document, in order. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

/**
 * The example as it runs against the demo: URLs replaced, and the browser of `@mcp-oauth/node`
 * (`createLoopbackAuthorizationHandler`'s default `open`, `openBrowser`) replaced by
 * the demo's `approveAuthorization`, which approves at once (start the demo with
 * `autoApprove`). Throws if a URL of an example domain is left, so that nothing leaves the machine.
 */
export function prepareExample(code: string, options: Omit<ExampleRunOptions, 'packageDirectory'>): string {
  let prepared = code;
  for (const [from, to] of options.replace ?? []) {
    if (!prepared.includes(from)) throw new Error(`the example does not contain ${JSON.stringify(from)}`);
    prepared = prepared.replaceAll(from, to);
  }
  const { server } = options;
  if (server !== undefined) {
    const mcpUrl = new URL(server.mcpUrl);
    prepared = prepared
      .replaceAll('https://mcp.example.com/mcp', mcpUrl.href)
      .replaceAll('https://mcp.example.com', mcpUrl.origin);
    if (server.issuer !== undefined)
      prepared = prepared.replaceAll('https://auth.example.com', server.issuer);
  }
  const left = /https?:\/\/[\w.-]*\.example(?:\.com)?\b/i.exec(prepared);
  if (left !== null) throw new Error(`the example still names ${left[0]}: replace it`);
  const headless = prepared
    .replace(
      /\bcreateLoopbackAuthorizationHandler\((\{[^()]*\})?\)/g,
      (_, argument: string | undefined) =>
        `createLoopbackAuthorizationHandler({ ...${argument ?? '{}'}, open: __approveAuthorization })`,
    )
    .replace(/\bopenBrowser\(/g, '__approveAuthorization(');
  if (headless === prepared) return prepared;
  return `import { approveAuthorization as __approveAuthorization } from '@mcp-oauth/demo-server';\n${headless}`;
}

let runs = 0;

/**
 * Runs README code as an ES module (see {@link prepareExample}) and resolves with its exports.
 * An example that opens a browser needs `@mcp-oauth/demo-server` among the package's dependencies.
 */
export async function runExample<Exports = Record<string, unknown>>(
  code: string,
  options: ExampleRunOptions,
): Promise<Exports> {
  const directory = new URL('.readme-run/', options.packageDirectory);
  const file = fileURLToPath(new URL(`example-${++runs}-${randomUUID().slice(0, 8)}.ts`, directory));
  await mkdir(directory, { recursive: true });
  await writeFile(file, prepareExample(code, options));
  try {
    return (await import(/* @vite-ignore */ file)) as Exports;
  } finally {
    await rm(file, { force: true });
  }
}
