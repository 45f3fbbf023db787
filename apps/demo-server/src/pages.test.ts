import { describe, expect, it } from 'vitest';
import {
  escapeHtml,
  renderConsentPage,
  renderDeviceCodePage,
  renderDeviceConfirmPage,
  renderErrorPage,
} from './pages.js';

const INPUT = {
  clientName: 'Demo <b>App</b>',
  clientId: 'client"1',
  redirectUri: 'http://127.0.0.1:9/cb?a=1&b=<2>',
  scopes: [{ scope: 'mcp:tools', description: 'Use <tools>' }],
  resources: [{ url: 'http://127.0.0.1:2/mcp', name: 'Demo server' }],
  action: '/interaction/abc',
  userName: 'Demo User',
};

describe('renderConsentPage', () => {
  it('escapes everything a client chose', () => {
    const { html } = renderConsentPage(INPUT);
    expect(html).toContain('Allow <strong>Demo &lt;b&gt;App&lt;/b&gt;</strong> to access');
    expect(html).toContain('client&quot;1');
    expect(html).toContain('http://127.0.0.1:9/cb?a=1&amp;b=&lt;2&gt;');
    expect(html).not.toContain('<b>App</b>');
  });

  it('has no script, allows only its own inline style, and forbids framing', () => {
    const { html, headers } = renderConsentPage(INPUT);
    expect(html).not.toMatch(/<script/i);
    const nonce = /<style nonce="([^"]+)">/.exec(html)?.[1];
    expect(nonce).toEqual(expect.any(String));
    expect(headers['content-security-policy']).toBe(
      `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'`,
    );
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['cache-control']).toBe('no-store');
  });

  it('uses a new nonce for every page', () => {
    expect(renderConsentPage(INPUT).headers['content-security-policy']).not.toBe(
      renderConsentPage(INPUT).headers['content-security-policy'],
    );
  });

  it('posts the decision with two labelled buttons', () => {
    const { html } = renderConsentPage(INPUT);
    expect(html).toContain('<form method="post" action="/interaction/abc">');
    expect(html).toContain(
      '<button type="submit" class="approve" name="decision" value="approve">Approve</button>',
    );
    expect(html).toContain('<button type="submit" class="deny" name="decision" value="deny">Deny</button>');
    expect(html).toContain('<html lang="en">');
  });

  it('names an unnamed client as such', () => {
    const { html } = renderConsentPage({ ...INPUT, clientName: undefined });
    expect(html).toContain('Allow <strong>An unnamed application</strong>');
  });
});

describe('renderErrorPage', () => {
  it('shows the error code and the escaped description', () => {
    const { html } = renderErrorPage({ error: 'invalid_request', description: 'bad <redirect_uri>' });
    expect(html).toContain('<code>invalid_request</code>');
    expect(html).toContain('bad &lt;redirect_uri&gt;');
  });
});

describe('the device pages', () => {
  it('escapes the client name, id and user code on the confirmation page, with Continue and Abort', () => {
    const { html } = renderDeviceConfirmPage({
      form: '<form id="op.deviceConfirmForm"></form>',
      clientName: 'Evil <script>',
      clientId: 'id"1',
      userCode: 'AB<CD',
    });
    expect(html).toContain('Is <strong>Evil &lt;script&gt;</strong> on your device showing this code?');
    expect(html).toContain('<code>AB&lt;CD</code>');
    expect(html).toContain('id&quot;1');
    expect(html).toContain('name="abort" value="yes">Abort</button>');
    expect(html).not.toContain('<script>');
  });

  it('says why a code was not accepted', () => {
    const { html } = renderDeviceCodePage({ form: '<form></form>', problem: 'That code <expired>.' });
    expect(html).toContain('<strong>That code &lt;expired&gt;.</strong>');
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
