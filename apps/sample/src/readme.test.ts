/**
 * The READMEs show what the sample really prints and code that really works: the root README's
 * snippets are typechecked as src/readme/*.example.ts and run against the demo server (the MCP
 * SDK's server behind oidc-provider), and both READMEs show the table's header.
 */
import { readFileSync } from 'node:fs';
import { type DemoServer, type DemoServerStats, ECHO_TOOL, startDemoServer } from '@mcp-oauth/demo-server';
import { runExample, tsBlocks } from '@mcp-oauth/demo-server/readme';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_NAMES, type AdapterName } from './adapters/index.js';
import { renderTable } from './table.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const rootReadme = read('../../../README.md');
const sampleReadme = read('../README.md');

describe('root README, "Use it in your stack"', () => {
  const section = rootReadme.slice(
    rootReadme.indexOf('## Use it in your stack'),
    rootReadme.indexOf('## Packages'),
  );
  const blocks = tsBlocks(section);

  it('has the shared setup, then one snippet per adapter of at most 10 lines', () => {
    expect(blocks).toHaveLength(1 + ADAPTER_NAMES.length);
    for (const block of blocks.slice(1)) expect(block.trimEnd().split('\n').length).toBeLessThanOrEqual(10);
  });

  it.each(ADAPTER_NAMES.map((adapter, index) => [adapter, index + 1] as const))(
    'the %s snippet and the setup appear verbatim in its readme/*.example.ts',
    (adapter, index) => {
      const example = read(`./readme/${adapter}.example.ts`);
      expect(example).toContain(blocks[0]);
      expect(example).toContain(blocks[index]);
      expect(blocks[index]).toContain(`@mcp-oauth/${adapter}`);
    },
  );

  describe('each snippet with the setup, run against the demo server', () => {
    let demo: DemoServer;
    beforeAll(async () => {
      demo = await startDemoServer({ autoApprove: true });
    });
    afterAll(() => demo?.close());

    type Exports = Record<string, unknown>;
    /** The JSON-RPC message of an answer that is JSON or an SSE stream. */
    const message = (body: string) =>
      JSON.parse(/^data: ?(.*)$/m.exec(body)?.[1] ?? body) as { id: number; result: Record<string, unknown> };
    const toolNames = (result: unknown) =>
      (result as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    /** The protocol version of an `initialize` answer. */
    const initialized = (body: unknown) => [String(message(String(body)).result.protocolVersion)];
    /** What each snippet got from the server: the tools it listed, or the version it initialized. */
    const answers: Record<AdapterName, (exports: Exports) => string[]> = {
      fetch: ({ tools }) => toolNames({ tools }),
      ky: ({ answer }) => initialized(answer),
      axios: ({ data }) => toolNames((data as { result: unknown }).result),
      got: ({ body }) => initialized(body),
    };
    const INITIALIZING: ReadonlySet<AdapterName> = new Set(['ky', 'got']);

    it.each(ADAPTER_NAMES)(
      '%s: discovers, registers, authorizes in the "browser", then gets its answer',
      async (adapter) => {
        const before = demo.stats();
        const exports = await runExample<Exports>(read(`./readme/${adapter}.example.ts`), {
          server: demo,
          packageDirectory: new URL('../', import.meta.url),
        });
        try {
          const answer = answers[adapter](exports);
          if (INITIALIZING.has(adapter))
            expect(answer).toEqual([expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/)]);
          else expect(answer).toContain(ECHO_TOOL);
          const after = demo.stats();
          const delta = (name: keyof DemoServerStats) => after[name] - before[name];
          // A 401 first, then a client of its own registered, one consent (played headlessly), one
          // authorization code redeemed.
          expect([delta('registration'), delta('authorize') > 0, delta('token')]).toEqual([1, true, 1]);
          expect(delta('mcp')).toBeGreaterThanOrEqual(2);
        } finally {
          await (exports.client as { close(): Promise<void> } | undefined)?.close();
          await (exports.loopback as { close(): Promise<void> } | undefined)?.close();
        }
      },
    );
  });
});

it('both READMEs show the table header the demo prints', () => {
  const [header] = renderTable([]);
  expect(rootReadme).toContain(header);
  expect(sampleReadme).toContain(header);
});
