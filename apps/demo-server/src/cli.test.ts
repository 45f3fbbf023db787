import { describe, expect, it } from 'vitest';
import { parseCli } from './cli.js';

describe('parseCli', () => {
  it('starts from nothing: every option at its default', () => {
    expect(parseCli([], {})).toEqual({ options: {}, quiet: false, help: false });
  });

  it('reads flags', () => {
    const settings = parseCli(
      [
        '--as-port',
        '9000',
        '--mcp-port=9001',
        '--token-lifetime',
        '5',
        '--auto-approve',
        '--no-dpop',
        '--client-secret',
        'a-long-enough-secret',
        '--quiet',
      ],
      {},
    );
    expect(settings).toEqual({
      options: {
        authorizationServerPort: 9000,
        mcpPort: 9001,
        accessTokenLifetimeSeconds: 5,
        autoApprove: true,
        dpop: false,
        confidentialClient: { clientId: 'demo-service', clientSecret: 'a-long-enough-secret' },
      },
      quiet: true,
      help: false,
    });
  });

  it('skips the "--" pnpm passes on', () => {
    expect(parseCli(['--', '--auto-approve'], {}).options).toEqual({ autoApprove: true });
  });

  it('reads the environment, and flags win over it', () => {
    const env = {
      DEMO_AS_PORT: '8000',
      DEMO_MCP_PORT: '8001',
      DEMO_TOKEN_LIFETIME: '30',
      DEMO_AUTO_APPROVE: 'true',
      DEMO_DPOP: '0',
    };
    expect(parseCli([], env).options).toEqual({
      authorizationServerPort: 8000,
      mcpPort: 8001,
      accessTokenLifetimeSeconds: 30,
      autoApprove: true,
      dpop: false,
    });
    expect(parseCli(['--as-port', '7000'], env).options.authorizationServerPort).toBe(7000);
  });

  it.each([
    [['--as-port', 'eighty'], {}],
    [['--token-lifetime', '-1'], {}],
    [[], { DEMO_AUTO_APPROVE: 'sometimes' }],
    [['--unknown'], {}],
    [['positional'], {}],
  ])('refuses %j %j', (args, env) => {
    expect(() => parseCli(args, env)).toThrow();
  });
});
