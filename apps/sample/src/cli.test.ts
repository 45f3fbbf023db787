import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './cli.js';

const options = (argv: string[]) => {
  const result = parseCommandLine(argv);
  if (result.help) throw new Error('unexpected --help');
  return result.options;
};

describe('pnpm demo command line', () => {
  it('defaults to the embedded server, headless, every adapter, 5 s tokens', () => {
    expect(options([])).toEqual({
      adapters: ['fetch', 'ky', 'axios', 'got'],
      browser: false,
      tokenLifetimeSeconds: 5,
      callbackPort: 0,
      signOut: false,
      dpop: false,
    });
  });

  it('takes the `--` that `pnpm demo -- --browser` passes through', () => {
    expect(options(['--', '--browser', '--adapter', 'ky', '--adapter', 'got'])).toMatchObject({
      browser: true,
      adapters: ['ky', 'got'],
    });
  });

  it('--server implies the browser, a fixed callback port and file stores', () => {
    expect(options(['--server', 'https://mcp.example.com/mcp', '--store', '/tmp/x'])).toMatchObject({
      serverUrl: 'https://mcp.example.com/mcp',
      browser: true,
      callbackPort: 33418,
      storeDirectory: '/tmp/x',
    });
  });

  it.each([
    [['--adapter', 'superagent'], /unknown adapter "superagent"/],
    [['--server', 'mcp.example.com'], /--server needs an absolute URL/],
    [['--token-lifetime', '0'], /--token-lifetime needs a whole number from 1/],
    [['--callback-port', '70000'], /--callback-port/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(message);
  });

  it('--help', () => {
    expect(parseCommandLine(['--help'])).toEqual({ help: true });
  });
});
