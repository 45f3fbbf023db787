import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { browserCommandFromEnvironment, printDeviceCode } from './prompt.js';

describe('browserCommandFromEnvironment', () => {
  const url = 'https://as.example.com/authorize?a=1&b=2';
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['firefox', { command: 'firefox', args: [url] }],
    ['  open -a Safari ', { command: 'open', args: ['-a', 'Safari', url] }],
    ['browser --url=%s --new', { command: 'browser', args: [`--url=${url}`, '--new'] }],
  ])('reads %j', (value, expected) => {
    expect(browserCommandFromEnvironment(value, url)).toEqual(expected);
  });

  it('passes the URL as one argument, whatever it contains (no shell)', () => {
    const tricky = 'https://as.example.com/a?x=$(id)&y=`id`;z';
    expect(browserCommandFromEnvironment('xdg-open', tricky)?.args).toEqual([tricky]);
  });
});

describe('printDeviceCode', () => {
  it('shows the URL, the code, the prefilled URL and the time left, on the given stream', () => {
    const stream = new PassThrough();
    let text = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
    });
    const now = 1_700_000_000_000;
    printDeviceCode(
      stream,
      {
        userCode: 'WDJB-MJHT',
        verificationUri: 'https://as.example.com/device',
        verificationUriComplete: 'https://as.example.com/device?user_code=WDJB-MJHT',
        expiresAt: now + 600_000,
        scopes: ['mcp:tools'],
        signal: undefined,
      },
      now,
    );
    expect(text).toBe(
      [
        '',
        'To sign in, open https://as.example.com/device',
        'and enter the code WDJB-MJHT',
        '(or open https://as.example.com/device?user_code=WDJB-MJHT, which has the code filled in)',
        'on any device. Check that the page shows the same code. It expires in 10 minutes.',
        'Waiting for you to confirm…',
        '',
        '',
      ].join('\n'),
    );
  });
});
