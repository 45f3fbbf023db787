/**
 * The life of a token, for one adapter: first contact (401) → discovery → registration →
 * authorization → tools/list → echo → step-up → refresh after expiry → sign-out. Each step runs,
 * is judged by its result and by what the engine did meanwhile, and is printed with the requests it
 * cost. The first failure stops the run; the steps after it are "not run".
 */
import { isOAuthClientError } from '@mcp-oauth/core';
import type { AdapterName, McpClient } from './adapters/index.js';
import { type EngineEvent, type EngineLog, formatScopes } from './engine-log.js';
import { formatCounts, type RequestCounter, type RequestCounts } from './request-counts.js';

export const STEPS = [
  'first contact',
  'discovery',
  'registration',
  'authorization',
  'tools/list',
  'echo',
  'step-up',
  'refresh',
  'sign-out',
] as const;
export type Step = (typeof STEPS)[number];

/** `skipped`: not applicable here (another server, stored credentials); never in the embedded demo. */
export type Outcome = 'passed' | 'failed' | 'skipped' | 'not run';

export const OUTCOME_SYMBOLS: Readonly<Record<Outcome, string>> = {
  passed: '✓',
  failed: '✗',
  skipped: '–',
  'not run': '·',
};

export interface StepReport {
  readonly step: Step;
  readonly outcome: Outcome;
  readonly detail: string;
}

export interface AdapterReport {
  readonly adapter: AdapterName;
  readonly steps: readonly StepReport[];
  readonly requests: RequestCounts;
  /** The scopes of the last token the session held. */
  readonly grantedScopes: readonly string[];
}

export interface FlowOptions {
  readonly adapter: AdapterName;
  readonly client: McpClient;
  readonly engine: EngineLog;
  readonly counter: RequestCounter;
  readonly print: (line: string) => void;
  /** The embedded demo: every step must happen (a stored token or a missing tool is a failure). */
  readonly strict: boolean;
  /** Wait for the access token to expire, then make a call that refreshes it. */
  readonly waitForExpiry: boolean;
  /** Sign out at the end; otherwise `keptNote` says where the credentials stay. */
  readonly signOut: boolean;
  readonly keptNote?: string;
}

export const ECHO_TOOL = 'echo';
export const ADMIN_TOOL = 'admin_stats';
const CONNECT_STEPS = ['first contact', 'discovery', 'registration', 'authorization'] as const;

interface Observed<T> {
  readonly ok: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
  readonly events: readonly EngineEvent[];
  readonly counts: RequestCounts;
}

export async function runFlow(options: FlowOptions): Promise<AdapterReport> {
  const flow = new Flow(options);
  const start = await options.counter.mark();
  try {
    await flow.run();
  } finally {
    await options.client.close().catch(() => undefined);
  }
  await options.counter.mark();
  return {
    adapter: options.adapter,
    steps: flow.steps,
    requests: options.counter.since(start),
    grantedScopes: flow.grantedScopes,
  };
}

class Flow {
  readonly steps: StepReport[] = [];
  grantedScopes: readonly string[] = [];
  readonly #options: FlowOptions;

  constructor(options: FlowOptions) {
    this.#options = options;
  }

  async run(): Promise<void> {
    if (!(await this.#connect())) return;
    const tools = await this.#listTools();
    if (tools === undefined) return;
    if (!(await this.#echo(tools))) return;
    if (!(await this.#stepUp(tools))) return;
    if (!(await this.#refresh(tools))) return;
    await this.#signOut();
  }

  /** `initialize`, which meets the 401 and so runs discovery, registration and authorization. */
  async #connect(): Promise<boolean> {
    const { strict } = this.#options;
    const connected = await this.#observe(() => this.#options.client.connect());
    const events = connected.events;
    const issuer = events.find((entry) => entry.event === 'discovery.as.found')?.data.issuer;
    const registration = events.find(
      (entry) => entry.level === 'debug' && REGISTRATION_DETAILS[entry.event] !== undefined,
    );
    const evidence: Record<(typeof CONNECT_STEPS)[number], string | undefined> = {
      'first contact': has(events, 'session.decision', (data) => data.status === 401)
        ? 'initialize → 401 with a Bearer challenge'
        : undefined,
      discovery:
        has(events, 'discovery.prm.found') && issuer !== undefined
          ? `resource metadata → authorization server ${String(issuer)}`
          : undefined,
      registration: registration === undefined ? undefined : REGISTRATION_DETAILS[registration.event],
      authorization:
        connected.ok &&
        has(events, 'session.authorization_started') &&
        has(events, 'token.response', (data) => data.grant === 'authorization_code' && data.status === 200)
          ? `PKCE code flow, granted ${this.#scopes()}${this.#dpopNote()}`
          : undefined,
    };
    let stopped = false;
    for (const step of CONNECT_STEPS) {
      const detail = evidence[step];
      if (detail !== undefined) this.#record(step, 'passed', detail);
      else if (stopped) this.#record(step, 'not run', '');
      else if (connected.ok && !strict)
        this.#record(step, 'skipped', 'not needed: stored credentials reused');
      else {
        this.#record(step, 'failed', connected.ok ? 'did not happen' : describeError(connected.error));
        stopped = !connected.ok;
      }
    }
    this.#printCounts(connected.counts);
    const passed = connected.ok && !this.steps.some((step) => step.outcome === 'failed');
    if (!passed) for (const rest of STEPS.slice(CONNECT_STEPS.length)) this.#record(rest, 'not run', '');
    return passed;
  }

  async #listTools(): Promise<string[] | undefined> {
    const listed = await this.#observe(() => this.#options.client.listTools());
    const tools = listed.value;
    if (!listed.ok || tools === undefined) {
      this.#fail('tools/list', describeError(listed.error));
      return undefined;
    }
    if (this.#options.strict && !(tools.includes(ECHO_TOOL) && tools.includes(ADMIN_TOOL))) {
      this.#fail('tools/list', `expected ${ECHO_TOOL} and ${ADMIN_TOOL}, got ${tools.join(', ')}`);
      return undefined;
    }
    this.#record('tools/list', 'passed', tools.join(', '), listed.counts);
    return tools;
  }

  async #echo(tools: readonly string[]): Promise<boolean> {
    if (!tools.includes(ECHO_TOOL)) return this.#skip('echo', `the server has no ${ECHO_TOOL} tool`);
    const message = `hello from ${this.#options.adapter}`;
    const echoed = await this.#observe(() => this.#options.client.callTool(ECHO_TOOL, { message }));
    if (!echoed.ok) return this.#fail('echo', describeError(echoed.error));
    if (echoed.value !== message) return this.#fail('echo', 'the answer is not the message sent');
    this.#record('echo', 'passed', `"${message}" came back`, echoed.counts);
    return true;
  }

  async #stepUp(tools: readonly string[]): Promise<boolean> {
    if (!tools.includes(ADMIN_TOOL)) return this.#skip('step-up', `the server has no ${ADMIN_TOOL} tool`);
    const called = await this.#observe(() => this.#options.client.callTool(ADMIN_TOOL));
    if (!called.ok) return this.#fail('step-up', describeError(called.error));
    const challenge = called.events.find(
      (entry) => entry.event === 'session.decision' && entry.data.decision === 'step_up',
    );
    const reauthorized =
      challenge !== undefined &&
      has(called.events, 'session.authorization_started') &&
      has(
        called.events,
        'token.response',
        (data) => data.grant === 'authorization_code' && data.status === 200,
      );
    if (!reauthorized) {
      return this.#options.strict
        ? this.#fail('step-up', `${ADMIN_TOOL} answered without a step-up`) !== undefined
        : this.#skip('step-up', 'the token already had the scope');
    }
    const detail = `${ADMIN_TOOL}: ${String(challenge.data.status)} ${String(challenge.data.error)} → re-authorized, granted ${this.#scopes()}`;
    this.#record('step-up', 'passed', detail, called.counts);
    return true;
  }

  async #refresh(tools: readonly string[]): Promise<boolean> {
    if (!this.#options.waitForExpiry)
      return this.#skip('refresh', 'not waiting for this server’s tokens to expire');
    const session = this.#options.client.session;
    const held = session.getTokenInfo();
    if (held?.expiresAt === undefined || !held.hasRefreshToken) {
      return this.#fail('refresh', 'no expiring access token with a refresh token');
    }
    const wait = Math.max(0, held.expiresAt - Date.now() + 250);
    this.#options.print(`      · waiting ${(wait / 1000).toFixed(1)} s for the access token to expire`);
    await new Promise((resolve) => setTimeout(resolve, wait));
    const call: () => Promise<unknown> = tools.includes(ECHO_TOOL)
      ? () => this.#options.client.callTool(ECHO_TOOL, { message: 'after expiry' })
      : () => this.#options.client.listTools();
    const renewed = await this.#observe(call);
    if (!renewed.ok) return this.#fail('refresh', describeError(renewed.error));
    if (!has(renewed.events, 'session.refresh') || has(renewed.events, 'session.authorization_started')) {
      return this.#fail('refresh', 'the expired token was not renewed with the refresh token');
    }
    this.#record(
      'refresh',
      'passed',
      'expired token renewed with the refresh token, no user involved',
      renewed.counts,
    );
    return true;
  }

  async #signOut(): Promise<void> {
    if (!this.#options.signOut) {
      this.#skip('sign-out', this.#options.keptNote ?? 'credentials kept');
      return;
    }
    const session = this.#options.client.session;
    const signedOut = await this.#observe(() => session.signOut());
    if (!signedOut.ok) {
      this.#fail('sign-out', describeError(signedOut.error));
    } else if (signedOut.value?.revoked !== true || session.getTokenInfo() !== undefined) {
      this.#fail('sign-out', 'the tokens were not revoked');
    } else {
      this.#record(
        'sign-out',
        'passed',
        'tokens forgotten, refresh and access token revoked',
        signedOut.counts,
      );
    }
  }

  // ------------------------------------------------------------------ helpers

  async #observe<T>(action: () => Promise<T>): Promise<Observed<T>> {
    const { engine, counter } = this.#options;
    const logged = engine.length;
    const counted = await counter.mark();
    let ok = true;
    let value: T | undefined;
    let error: unknown;
    try {
      value = await action();
    } catch (caught) {
      ok = false;
      error = caught;
    }
    await counter.mark();
    // What the session holds after each step; sign-out leaves the last value (what it gave up).
    this.grantedScopes = this.#options.client.session.getTokenInfo()?.grantedScopes ?? this.grantedScopes;
    return { ok, value, error, events: engine.since(logged), counts: counter.since(counted) };
  }

  #dpopNote(): string {
    return this.#options.client.session.getTokenInfo()?.tokenType === 'DPoP' ? ' (DPoP-bound)' : '';
  }

  #scopes(): string {
    return formatScopes(this.#options.client.session.getTokenInfo()?.grantedScopes);
  }

  #record(step: Step, outcome: Outcome, detail: string, counts?: RequestCounts): void {
    this.steps.push({ step, outcome, detail });
    const requests = counts === undefined ? '' : formatCounts(counts);
    this.#options.print(
      `    ${OUTCOME_SYMBOLS[outcome]} ${step.padEnd(14)} ${detail}${requests === '' ? '' : `   [${requests}]`}`,
    );
  }

  #printCounts(counts: RequestCounts): void {
    const requests = formatCounts(counts);
    if (requests !== '') this.#options.print(`      requests: ${requests}`);
  }

  #skip(step: Step, detail: string): boolean {
    if (this.#options.strict) return this.#fail(step, detail);
    this.#record(step, 'skipped', detail);
    return true;
  }

  /** Records the failure and marks the remaining steps "not run"; `false`: stop. */
  #fail(step: Step, detail: string): false {
    this.#record(step, 'failed', detail);
    for (const rest of STEPS.slice(STEPS.indexOf(step) + 1)) this.#record(rest, 'not run', '');
    return false;
  }
}

const REGISTRATION_DETAILS: Readonly<Record<string, string>> = {
  'registration.dynamic': 'dynamic client registration (RFC 7591)',
  'registration.reused': 'client registered on an earlier run',
  'registration.pre_registered': 'pre-registered client',
  'registration.metadata_document': 'client ID metadata document',
};

function has(
  events: readonly EngineEvent[],
  event: string,
  test: (data: Readonly<Record<string, unknown>>) => boolean = () => true,
): boolean {
  return events.some((entry) => entry.event === event && test(entry.data));
}

/** An error in one line: the engine's code and OAuth error, or the library's error name and message. */
export function describeError(error: unknown): string {
  let text: string;
  if (isOAuthClientError(error)) {
    text = `${error.code}${error.oauthError === undefined ? '' : ` (${error.oauthError})`}: ${error.message}`;
  } else if (error instanceof Error) {
    text = `${error.name}: ${error.message}`;
  } else {
    text = 'failed';
  }
  // Library errors may quote a response body: keep one short line, and never anything JWT-shaped.
  const line = text.split('\n', 1)[0] ?? '';
  return line.replace(/eyJ[\w-]*\.[\w-]*\.?[\w-]*/g, '[redacted]').slice(0, 200);
}
