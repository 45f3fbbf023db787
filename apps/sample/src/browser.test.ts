/**
 * The sample's browser mode end to end, in Debian chromium driven by playwright-core: the demo
 * server without auto-approve, the fetch adapter, and an `open` that hands the authorization URL to
 * the browser instead of the system opener. The consent page is read and answered like a person
 * would; the loopback callback server from @mcp-oauth/node receives the redirect. Set
 * SAMPLE_SCREENSHOT_DIR to keep the consent page screenshot.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let userDataDir: string;
let screenshotDir: string;
let context: BrowserContext;

beforeAll(async () => {
  // Not skipped when chromium is missing: the browser test is part of the suite.
  expect(existsSync(CHROMIUM), `${CHROMIUM} is required (apt-get install chromium)`).toBe(true);
  userDataDir = await mkdtemp(join(tmpdir(), 'sample-chromium-'));
  screenshotDir = process.env.SAMPLE_SCREENSHOT_DIR ?? userDataDir;
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
});

interface Visit {
  /** What the consent page says, as rendered. */
  readonly consent: string;
  /** Where the browser ended: the loopback redirect URI with the authorization response. */
  readonly landedOn: URL;
  /** The HTML of the page the callback server showed there. */
  readonly callbackPage: string;
}

/** A person at the browser who reads the consent page and clicks `button`. */
function person(button: 'Approve' | 'Deny') {
  const visits: Visit[] = [];
  const open = async (authorizationUrl: string) => {
    const redirectUri = new URL(authorizationUrl).searchParams.get('redirect_uri') ?? '';
    const page = await context.newPage();
    try {
      await page.goto(authorizationUrl);
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person reads (Playwright's innerText)
      const consent = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
      if (visits.length === 0) {
        await page.screenshot({ path: join(screenshotDir, `sample-consent-${button.toLowerCase()}.png`) });
      }
      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(`${redirectUri}?`)),
        page.getByRole('button', { name: button }).click(),
      ]);
      visits.push({ consent, landedOn: new URL(page.url()), callbackPage: await page.content() });
    } finally {
      await page.close();
    }
  };
  return { open, visits };
}

async function runInBrowser(open: (url: string) => Promise<void>) {
  const lines: string[] = [];
  const result = await runDemo({
    adapters: ['fetch'],
    browser: true,
    open,
    tokenLifetimeSeconds: 5,
    callbackPort: 0,
    signOut: true,
    dpop: false,
    print: (line) => lines.push(line),
  });
  return { ...result, log: lines.join('\n') };
}

describe('the sample in a real browser', () => {
  it('Approve: the consent page names the client and scopes, the callback server gets the code, every step passes', async () => {
    const { open, visits } = person('Approve');
    const { passed, reports, log } = await runInBrowser(open);

    expect(passed, log).toBe(true);
    expect(reports[0]?.steps.map((step) => step.outcome)).toEqual(Array(9).fill('passed'));
    expect(log).toContain('waiting for the user at the consent page');
    expect(log).toContain('"hello from fetch" came back');

    // The first authorization, then the step-up: each one a consent page of its own.
    expect(visits).toHaveLength(2);
    expect(visits[0]?.consent).toContain('Allow mcp-oauth sample (fetch) to access the demo MCP server?');
    expect(visits[0]?.consent).toContain('mcp:tools — Use the server’s tools');
    expect(visits[0]?.consent).not.toContain('mcp:admin');
    expect(visits[1]?.consent).toContain('mcp:admin — Read the server’s administrative statistics');
    expect((await stat(join(screenshotDir, 'sample-consent-approve.png'))).size).toBeGreaterThan(1000);

    for (const { landedOn, callbackPage } of visits) {
      const code = landedOn.searchParams.get('code');
      const state = landedOn.searchParams.get('state');
      expect(code).toEqual(expect.any(String));
      expect(state).toEqual(expect.any(String));
      expect(callbackPage).toContain('Authorization received');
      expect(callbackPage).not.toContain(code);
      expect(callbackPage).not.toContain(state);
      // Nor does the sample's own output.
      expect(log).not.toContain(code);
      expect(log).not.toContain(state);
    }
  });

  it('Deny: the sample stops at authorization with a clear access_denied', async () => {
    const { open, visits } = person('Deny');
    const { passed, reports, log } = await runInBrowser(open);

    expect(passed).toBe(false);
    const steps = reports[0]?.steps ?? [];
    expect(steps.map((step) => step.outcome)).toEqual([
      'passed',
      'passed',
      'passed',
      'failed',
      ...Array(5).fill('not run'),
    ]);
    expect(steps[3]?.detail).toMatch(/^authorization_denied \(access_denied\): /);
    expect(log).toContain('✗ authorization  authorization_denied (access_denied)');
    expect(log).toContain('Some steps failed');

    expect(visits).toHaveLength(1);
    expect(visits[0]?.landedOn.searchParams.get('error')).toBe('access_denied');
    expect(visits[0]?.callbackPage).toContain('Authorization not completed');
  });
});
