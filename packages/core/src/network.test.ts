import { describe, expect, it } from 'vitest';
import { isOAuthClientError } from './errors.js';
import { assertNoMorePrivateNetwork, isLinkLocalUrl, type NetworkClass, networkClassOf } from './network.js';

/** Each host goes through the WHATWG URL parser first, as every URL the engine judges does. */
function classOf(host: string): NetworkClass {
  return networkClassOf(new URL(`https://${host}/x`));
}

describe('networkClassOf', () => {
  it.each([
    // loopback by name
    ['localhost', 'loopback'],
    ['LOCALHOST', 'loopback'],
    ['localhost.', 'loopback'],
    ['app.localhost', 'loopback'],
    ['app.localhost.', 'loopback'],
    // IPv4 loopback, in every form the URL parser accepts
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['127.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.0.0.1.', 'loopback'],
    ['%31%32%37.0.0.1', 'loopback'],
    // IPv6 loopback and IPv4 loopback reached through IPv6
    ['[::1]', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[::ffff:0:127.0.0.1]', 'loopback'],
    ['[::127.0.0.1]', 'loopback'],
    ['[64:ff9b::127.0.0.1]', 'loopback'],
    ['[2002:7f00:1::1]', 'loopback'],
    // private IPv4: RFC 1918, CGNAT, link-local, unspecified, multicast, reserved
    ['10.0.0.8', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'private'],
    ['2852039166', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['0.0.0.0', 'private'],
    ['0', 'private'],
    ['0.1.2.3', 'private'],
    ['224.0.0.1', 'private'],
    ['255.255.255.255', 'private'],
    // private IPv6: ULA, link-local, site-local, unspecified, multicast
    ['[fd00::1]', 'private'],
    ['[fc00::1]', 'private'],
    ['[fe80::1]', 'private'],
    ['[febf::1]', 'private'],
    ['[fec0::1]', 'private'],
    ['[::]', 'private'],
    ['[ff02::1]', 'private'],
    // private IPv4 reached through IPv6
    ['[::ffff:10.0.0.8]', 'private'],
    ['[::ffff:a9fe:a9fe]', 'private'],
    ['[::ffff:0:a9fe:a9fe]', 'private'],
    ['[::169.254.169.254]', 'private'],
    ['[64:ff9b::169.254.169.254]', 'private'],
    ['[64:ff9b::a00:8]', 'private'],
    ['[64:ff9b:1::808:808]', 'private'],
    ['[2002:c0a8:101::1]', 'private'],
    ['[2002:a9fe:a9fe::1]', 'private'],
    // Teredo: server 65.54.227.120, client 10.0.0.8 (stored as its complement)
    ['[2001:0:4136:e378:8000:63bf:f5ff:fff7]', 'private'],
    // public
    ['mcp.example.com', 'public'],
    ['localhost.example.com', 'public'],
    ['notlocalhost', 'public'],
    ['127.0.0.1.example.com', 'public'],
    ['8.8.8.8', 'public'],
    ['11.0.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.1', 'public'],
    ['192.169.0.1', 'public'],
    ['169.255.0.1', 'public'],
    ['128.0.0.1', 'public'],
    ['[2606:4700::1111]', 'public'],
    ['[::ffff:8.8.8.8]', 'public'],
    ['[64:ff9b::8.8.8.8]', 'public'],
    ['[2002:808:808::1]', 'public'],
    ['[::2]', 'private'], // IPv4-compatible 0.0.0.2
    ['[fe00::1]', 'public'],
    ['[fbff::1]', 'public'],
  ] as const)('%s → %s', (host, expected) => {
    expect(classOf(host)).toBe(expected);
  });

  it.each(['[::ffff:127.0.0.1]', '[1:2::3:4:5:6:7:8:9]', '[::g]'])(
    'an IPv6 host %s in a form no WHATWG URL parser writes is judged loopback (fail closed)',
    (hostname) => {
      expect(networkClassOf({ hostname } as URL)).toBe('loopback');
    },
  );
});

describe('isLinkLocalUrl', () => {
  it.each([
    ['169.254.169.254', true],
    ['2852039166', true],
    ['[fe80::1]', true],
    ['[febf::1]', true],
    ['[::ffff:169.254.169.254]', true],
    ['[::ffff:0:169.254.169.254]', true],
    ['[::169.254.169.254]', true],
    ['[64:ff9b::169.254.169.254]', true],
    ['[2002:a9fe:a9fe::1]', true],
    ['10.0.0.8', false],
    ['[fec0::1]', false],
    ['[::1]', false],
    ['localhost', false],
    ['169.255.0.1', false],
  ] as const)('%s → %s', (host, expected) => {
    expect(isLinkLocalUrl(new URL(`https://${host}/`))).toBe(expected);
  });
});

describe('assertNoMorePrivateNetwork', () => {
  const PUBLIC = new URL('https://mcp.example.com/mcp');
  const PRIVATE = new URL('https://10.0.0.2/mcp');
  const LOOPBACK = new URL('http://127.0.0.1:3000/mcp');

  function refusal(target: string, learnedFrom: URL, allowPrivateNetworks?: boolean): unknown {
    try {
      assertNoMorePrivateNetwork(new URL(target), {
        what: 'token_endpoint',
        learnedFrom,
        allowPrivateNetworks,
      });
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it.each([
    ['public → public', 'https://as.example.com/token', PUBLIC],
    ['private → private', 'https://192.168.0.5/token', PRIVATE],
    ['private → public', 'https://as.example.com/token', PRIVATE],
    ['loopback → loopback', 'http://localhost:9000/token', LOOPBACK],
    ['loopback → private', 'https://10.0.0.3/token', LOOPBACK],
    ['loopback → public', 'https://as.example.com/token', LOOPBACK],
  ] as const)('allows %s', (_, target, learnedFrom) => {
    expect(refusal(target, learnedFrom)).toBeUndefined();
  });

  it.each([
    ['public → loopback', 'http://127.0.0.1/token', PUBLIC, 'a loopback address'],
    ['public → localhost', 'https://localhost/token', PUBLIC, 'a loopback address'],
    ['public → mapped loopback', 'https://[::ffff:7f00:1]/token', PUBLIC, 'a loopback address'],
    ['public → private', 'https://10.1.2.3/token', PUBLIC, 'a private-network address'],
    ['public → unspecified', 'https://0.0.0.0/token', PUBLIC, 'a private-network address'],
    ['public → ULA', 'https://[fd00::1]/token', PUBLIC, 'a private-network address'],
    ['public → NAT64', 'https://[64:ff9b::a00:1]/token', PUBLIC, 'a private-network address'],
    ['private → loopback', 'http://127.0.0.1/token', PRIVATE, 'a loopback address'],
  ] as const)(
    'refuses %s with unsafe_url naming both networks and the option',
    (_, target, learnedFrom, network) => {
      const error = refusal(target, learnedFrom);
      expect(isOAuthClientError(error, 'unsafe_url')).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain('token_endpoint');
      expect(message).toContain(network);
      expect(message).toContain('allowPrivateNetworks');
      // The message names networks, never the address or the URL.
      expect(message).not.toContain('/token');
      expect(message).not.toMatch(/\d+\.\d+\.\d+\.\d+|::/);
    },
  );

  it('allows anything when the application allowed private networks for the server', () => {
    expect(refusal('http://127.0.0.1/token', PUBLIC, true)).toBeUndefined();
    expect(refusal('https://[fd00::1]/token', PUBLIC, true)).toBeUndefined();
  });
});
