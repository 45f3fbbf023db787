/**
 * The two pages a person sees: the consent page and the error page. Plain HTML with a little
 * inline CSS allowed by a per-response nonce; no script, no external asset. Everything that came
 * from a client (its name, its redirect URI) is escaped.
 */
import { randomBytes } from 'node:crypto';

export interface ConsentPageInput {
  /** The `client_name` the client registered, if any. */
  readonly clientName: string | undefined;
  readonly clientId: string;
  /** Where the browser goes after the decision. */
  readonly redirectUri: string | undefined;
  readonly scopes: readonly { readonly scope: string; readonly description: string }[];
  readonly resources: readonly { readonly url: string; readonly name: string | undefined }[];
  /** The form's target, `/interaction/<uid>`. */
  readonly action: string;
  /** The name of the signed-in demo user. */
  readonly userName: string;
}

export interface ErrorPageInput {
  readonly error: string;
  readonly description: string | undefined;
}

export interface Page {
  readonly html: string;
  /** Headers to send with the page: CSP with the style nonce, no framing, no caching. */
  readonly headers: Readonly<Record<string, string>>;
}

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5360; --line: #d5d9de; --accent: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f4f5f7; }
main { max-width: 34rem; margin: 3rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 12px; }
h1 { font-size: 1.4rem; line-height: 1.3; margin: 0 0 1rem; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
p, ul { margin: 0 0 .75rem; }
ul { padding-left: 1.25rem; }
li { margin: .35rem 0; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef0f3; padding: .1em .3em; border-radius: 4px; overflow-wrap: anywhere; }
.muted { color: var(--muted); font-size: .92rem; }
.actions { display: flex; gap: .75rem; margin-top: 1.75rem; }
button { font: inherit; font-weight: 600; padding: .6rem 1.4rem; border-radius: 8px; border: 2px solid var(--accent); cursor: pointer; }
button.approve { background: var(--accent); color: #fff; }
button.deny { background: #fff; color: var(--accent); }
button:focus-visible { outline: 3px solid #f4b400; outline-offset: 2px; }
`;

function layout(title: string, body: string): Page {
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
  return {
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'`,
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    },
  };
}

export function renderConsentPage(input: ConsentPageInput): Page {
  const who = input.clientName ?? 'An unnamed application';
  const scopes =
    input.scopes.length === 0
      ? '<p>It asks for no particular permission.</p>'
      : `<ul>${input.scopes
          .map(
            ({ scope, description }) =>
              `<li><code>${escapeHtml(scope)}</code> — ${escapeHtml(description)}</li>`,
          )
          .join('')}</ul>`;
  const resources =
    input.resources.length === 0
      ? '<p>No server was named.</p>'
      : `<ul>${input.resources
          .map(
            ({ url, name }) =>
              `<li>${name === undefined ? '' : `${escapeHtml(name)}: `}<code>${escapeHtml(url)}</code></li>`,
          )
          .join('')}</ul>`;
  const redirect =
    input.redirectUri === undefined
      ? ''
      : `<p class="muted">After you choose, your browser returns to <code>${escapeHtml(input.redirectUri)}</code>.</p>`;
  const body = `<h1>Allow <strong>${escapeHtml(who)}</strong> to access the demo MCP server?</h1>
<p class="muted">Signed in as ${escapeHtml(input.userName)}. Client ID: <code>${escapeHtml(input.clientId)}</code></p>
<h2>It asks permission to</h2>
${scopes}
<h2>On this server</h2>
${resources}
${redirect}
<form method="post" action="${escapeHtml(input.action)}">
<div class="actions">
<button type="submit" class="approve" name="decision" value="approve">Approve</button>
<button type="submit" class="deny" name="decision" value="deny">Deny</button>
</div>
</form>`;
  return layout(`Allow ${who}?`, body);
}

export interface DeviceCodePageInput {
  /** oidc-provider's form (`op.deviceInputForm`) with its XSRF token; inserted as it is. */
  readonly form: string;
  /** Why the code was not accepted, in words for a person. */
  readonly problem: string | undefined;
}

/** Where a person types the code their device shows (RFC 8628 §3.3). */
export function renderDeviceCodePage(input: DeviceCodePageInput): Page {
  const body = `<h1>Connect a device</h1>
${input.problem === undefined ? '<p>Enter the code your device shows.</p>' : `<p><strong>${escapeHtml(input.problem)}</strong></p>`}
${input.form}
<div class="actions">
<button type="submit" class="approve" form="op.deviceInputForm">Continue</button>
</div>`;
  return layout('Connect a device', body);
}

export interface DeviceConfirmPageInput {
  /** oidc-provider's form (`op.deviceConfirmForm`) with its XSRF token; inserted as it is. */
  readonly form: string;
  readonly clientName: string | undefined;
  readonly clientId: string;
  readonly userCode: string;
}

/**
 * The check RFC 8628 §5.4 asks for before anything is granted: the code on the screen must be the
 * one the person's own device shows, else they abort (a phishing attempt would fail here).
 */
export function renderDeviceConfirmPage(input: DeviceConfirmPageInput): Page {
  const who = input.clientName ?? 'An unnamed application';
  const body = `<h1>Is <strong>${escapeHtml(who)}</strong> on your device showing this code?</h1>
<p><code>${escapeHtml(input.userCode)}</code></p>
<p class="muted">Client ID: <code>${escapeHtml(input.clientId)}</code>. If you did not start this, or the code differs, abort.</p>
${input.form}
<div class="actions">
<button type="submit" class="approve" form="op.deviceConfirmForm">Continue</button>
<button type="submit" class="deny" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>
</div>`;
  return layout('Confirm the device', body);
}

/** Shown once the device is authorized: the device picks its tokens up on its next poll. */
export function renderDeviceSuccessPage(input: { readonly clientName: string | undefined }): Page {
  const body = `<h1>Device connected</h1>
<p>${escapeHtml(input.clientName ?? 'The application')} on your device can now use the demo MCP server. You can close this page.</p>`;
  return layout('Device connected', body);
}

export function renderErrorPage(input: ErrorPageInput): Page {
  const body = `<h1>This request cannot go on</h1>
<p>The authorization server answered <code>${escapeHtml(input.error)}</code>.</p>
${input.description === undefined ? '' : `<p>${escapeHtml(input.description)}</p>`}
<p class="muted">Close this window and start again from the application.</p>`;
  return layout('Authorization error', body);
}
