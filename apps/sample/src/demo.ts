/**
 * `pnpm demo`: every adapter through the whole life of a token, against the embedded demo server
 * (or any MCP server), then the table. Returns the reports; printing goes through `print`.
 */
import { type DemoServer, startDemoServer } from '@mcp-oauth/demo-server';
import { createFileStores } from '@mcp-oauth/node';
import { ADAPTERS, type AdapterName } from './adapters/index.js';
import { approveHeadless, type OpenAuthorizationUrl, startLoopbackAuthorization } from './authorization.js';
import { EngineLog } from './engine-log.js';
import { type AdapterReport, runFlow } from './flow.js';
import { EngineRequestCounter, ServerRequestLog } from './request-counts.js';
import { renderTable, TABLE_LEGEND } from './table.js';

export interface DemoOptions {
  readonly adapters: readonly AdapterName[];
  /** Any MCP server; absent: the demo server, started in this process. */
  readonly serverUrl?: string;
  /** Authorize in a browser (the consent page waits for a person). Always so with `serverUrl`. */
  readonly browser: boolean;
  /** Shows the authorization URL; default: the system browser, or none when headless. */
  readonly open?: OpenAuthorizationUrl;
  /** Access-token lifetime at the embedded demo server, in seconds. */
  readonly tokenLifetimeSeconds: number;
  /** Port of the loopback callback server; 0: any free port. */
  readonly callbackPort: number;
  /** With `serverUrl`: where the file stores live (default: `@mcp-oauth/node`'s per-user directory). */
  readonly storeDirectory?: string;
  /** With `serverUrl`: sign out (and revoke) at the end instead of keeping the credentials. */
  readonly signOut: boolean;
  readonly dpop: boolean;
  readonly print: (line: string) => void;
}

export interface DemoResult {
  readonly reports: readonly AdapterReport[];
  /** Every step of every adapter passed (or, with `serverUrl`, did not apply). */
  readonly passed: boolean;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { print } = options;
  const serverLog = options.serverUrl === undefined ? new ServerRequestLog() : undefined;
  let demo: DemoServer | undefined;
  if (serverLog !== undefined) {
    demo = await startDemoServer({
      autoApprove: !options.browser,
      accessTokenLifetimeSeconds: options.tokenLifetimeSeconds,
      onRequest: serverLog.record,
    });
    serverLog.attach(demo.stats);
  }
  try {
    const serverUrl = demo?.mcpUrl ?? options.serverUrl ?? '';
    const browser = options.browser || demo === undefined;
    const authorization = await startLoopbackAuthorization({
      port: options.callbackPort,
      ...(options.open !== undefined ? { open: options.open } : browser ? {} : { open: approveHeadless }),
    });
    const stores =
      demo === undefined ? createFileStores(fileStoreOptions(options.storeDirectory)) : undefined;
    printIntroduction(options, demo, serverUrl, authorization.redirectUri, stores?.directory);
    const reports: AdapterReport[] = [];
    try {
      for (const adapter of options.adapters) {
        const { connect, wiring } = ADAPTERS[adapter];
        print('');
        print(`▶ ${adapter} — ${wiring}`);
        const engine = new EngineLog(
          print,
          browser ? 'waiting for the user at the consent page' : 'the demo server approves by itself',
        );
        const client = connect({
          serverUrl,
          clientName: `mcp-oauth sample (${adapter})`,
          authorization,
          logger: engine,
          dpop: options.dpop,
          ...(stores === undefined ? {} : { stores }),
        });
        reports.push(
          await runFlow({
            adapter,
            client,
            engine,
            counter: serverLog ?? new EngineRequestCounter(engine),
            print,
            strict: demo !== undefined,
            waitForExpiry: demo !== undefined,
            signOut: demo !== undefined || options.signOut,
            keptNote: `credentials kept in ${stores?.directory ?? 'memory'} for the next run`,
          }),
        );
      }
    } finally {
      await authorization.close();
    }
    const passed = reports.every((report) =>
      report.steps.every((step) => step.outcome === 'passed' || step.outcome === 'skipped'),
    );
    print('');
    for (const line of renderTable(reports)) print(line);
    print('');
    for (const line of TABLE_LEGEND) print(line);
    if (demo === undefined) print('MCP requests are counted only at the embedded demo server.');
    print('');
    print(passed ? 'Every step passed.' : 'Some steps failed (✗): see the log above.');
    return { reports, passed };
  } finally {
    await demo?.close();
  }
}

function fileStoreOptions(directory: string | undefined) {
  return directory === undefined ? {} : { directory };
}

function printIntroduction(
  options: DemoOptions,
  demo: DemoServer | undefined,
  serverUrl: string,
  redirectUri: string,
  storeDirectory: string | undefined,
): void {
  const { print } = options;
  if (demo !== undefined) {
    print('Demo server on 127.0.0.1 (MCP SDK + oidc-provider, in this process):');
    print(`  MCP endpoint          ${demo.mcpUrl}`);
    print(`  authorization server  ${demo.issuer}`);
    print(
      `  access tokens live ${demo.accessTokenLifetimeSeconds} s; consent ${demo.autoApprove ? 'auto-approved (headless)' : 'in the browser'}`,
    );
  } else {
    print(`MCP server: ${serverUrl}`);
    print(`  credentials in ${storeDirectory ?? 'memory'} (file stores from @mcp-oauth/node)`);
  }
  print(`  loopback redirect URI ${redirectUri}`);
}
