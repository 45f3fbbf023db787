/**
 * Which network a URL leads to, and the rule that a URL learned from a server may not lead to a
 * more private network than that server: a public MCP server cannot send the client to
 * `127.0.0.1`, `10.0.0.8` or `[fd00::1]`, whatever form the address takes.
 *
 * Hosts are judged by name, with no DNS (core has no resolver, and a lookup would be a request of
 * its own): `localhost`, `*.localhost` and literal IP addresses are classified; any other name is
 * public. The address forms that reach an IPv4 address through IPv6 — IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64
 * (`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4 (`2002::/16`) and Teredo (`2001::/32`) — are judged by
 * the IPv4 address they carry. Decimal, octal and hexadecimal IPv4 forms (`2130706433`, `0177.1`,
 * `0x7f.1`) need nothing here: the WHATWG URL parser already writes them as `127.0.0.1`, and it
 * writes every IPv6 address in its canonical form (hexadecimal groups, at most one `::`, an IPv4
 * tail as two groups), which is the only form a parsed URL's host holds.
 */
import { oauthError } from './errors.js';

/** From most to least private. */
export type NetworkClass = 'loopback' | 'private' | 'public';

const RANK: Readonly<Record<NetworkClass, number>> = { loopback: 0, private: 1, public: 2 };

/** `a.b.c.d` with each part 0–255, as a 32-bit number; the only IPv4 form a parsed URL holds. */
function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) < 256)
    ? parts.reduce((value, part) => value * 256 + Number(part), 0)
    : undefined;
}

/** The eight 16-bit groups of a parsed URL's IPv6 host (without brackets), in its canonical form. */
function parseIpv6(text: string): number[] {
  const [left = [], right] = text
    .split('::')
    .map((part) => (part === '' ? [] : part.split(':').map((group) => Number(`0x${group}`))));
  return right === undefined
    ? left
    : [...left, ...Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
}

function inIpv4Range(address: number, base: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(address / size) === Math.floor((parseIpv4(base) as number) / size);
}

/**
 * Private: unspecified (0/8), RFC 1918 (10/8, 172.16/12, 192.168/16), shared CGNAT space
 * (100.64/10), link-local (169.254/16), and what is not unicast (multicast 224/4, reserved 240/4).
 */
const PRIVATE_IPV4: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

function classifyIpv4(address: number): NetworkClass {
  if (inIpv4Range(address, '127.0.0.0', 8)) return 'loopback';
  return PRIVATE_IPV4.some(([base, prefix]) => inIpv4Range(address, base, prefix)) ? 'private' : 'public';
}

/** The IPv4 addresses an IPv6 address reaches or stands for (see the module comment). */
function embeddedIpv4(groups: readonly number[]): number[] {
  const [g0, g1, , , g4, g5] = groups as [number, number, number, number, number, number];
  const at = (index: number) => (groups[index] as number) * 0x10000 + (groups[index + 1] as number);
  const zeroThrough = (last: number) => groups.slice(0, last + 1).every((group) => group === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated)
  if (zeroThrough(4) && g5 === 0xffff) return [at(6)];
  if (zeroThrough(3) && g4 === 0xffff && g5 === 0) return [at(6)];
  // ::a.b.c.d (compatible); `::` and `::1` themselves are classified before this.
  if (zeroThrough(5)) return [at(6)];
  // 64:ff9b::/96 (well-known NAT64 prefix) and 64:ff9b:1::/48 (local-use NAT64, RFC 8215)
  if (g0 === 0x64 && g1 === 0xff9b) return [at(6)];
  // 2002:aabb:ccdd::/48 (6to4)
  if (g0 === 0x2002) return [at(1)];
  // 2001:0:<server>:<flags>:<port>:<client XOR ffff:ffff> (Teredo)
  if (g0 === 0x2001 && g1 === 0) return [at(2), 0xffffffff - at(6)];
  return [];
}

function classifyIpv6(groups: readonly number[]): NetworkClass {
  const g0 = groups[0] as number;
  // Not the canonical form a URL parser writes (a URL implementation that does not follow WHATWG):
  // judged the most private, so it is refused wherever a private address would be.
  if (groups.length !== 8 || groups.some(Number.isNaN)) return 'loopback';
  if (groups.slice(0, 7).every((group) => group === 0)) {
    if (groups[7] === 1) return 'loopback'; // ::1
    if (groups[7] === 0) return 'private'; // :: (unspecified)
  }
  const own: NetworkClass =
    (g0 & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (g0 & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (g0 & 0xffc0) === 0xfec0 || // fec0::/10 site-local (deprecated)
    (g0 & 0xff00) === 0xff00 || // ff00::/8 multicast
    (g0 === 0x64 && groups[1] === 0xff9b && groups[2] === 1) // 64:ff9b:1::/48 local-use NAT64
      ? 'private'
      : 'public';
  return embeddedIpv4(groups)
    .map(classifyIpv4)
    .reduce((a, b) => (RANK[a] <= RANK[b] ? a : b), own);
}

/** A parsed URL's host as an address: IPv4 as one 32-bit number, IPv6 as eight groups, else the name. */
function addressOf(url: URL): number | number[] | string {
  const host = url.hostname.toLowerCase();
  if (host.startsWith('[')) return parseIpv6(host.slice(1, -1));
  // `localhost.` is `localhost`: a trailing dot only makes the name fully qualified.
  return parseIpv4(host) ?? (host.endsWith('.') ? host.slice(0, -1) : host);
}

/**
 * The network `url` leads to, judged by its host alone: `loopback` (127/8, `::1`, `localhost`,
 * `*.localhost`), `private` (see the module comment), or `public` (any other name or address).
 */
export function networkClassOf(url: URL): NetworkClass {
  const host = addressOf(url);
  if (typeof host === 'number') return classifyIpv4(host);
  if (typeof host !== 'string') return classifyIpv6(host);
  return host === 'localhost' || host.endsWith('.localhost') ? 'loopback' : 'public';
}

/** True for 169.254/16 and fe80::/10, in any of the forms of the module comment. */
export function isLinkLocalUrl(url: URL): boolean {
  const host = addressOf(url);
  const linkLocalIpv4 = (address: number) => inIpv4Range(address, '169.254.0.0', 16);
  if (typeof host === 'number') return linkLocalIpv4(host);
  if (typeof host === 'string') return false;
  return ((host[0] as number) & 0xffc0) === 0xfe80 || embeddedIpv4(host).some(linkLocalIpv4);
}

export interface NetworkRuleOptions {
  /** What the URL is, for the error message: `"resource_metadata"`, `"token_endpoint"`, … */
  readonly what: string;
  /** The server whose header, document or response named the URL. */
  readonly learnedFrom: URL;
  /** The application's explicit permission for this server (never a server's own say). */
  readonly allowPrivateNetworks?: boolean | undefined;
}

/** "a loopback address", "a private-network address", "a public address". */
const describe = (network: NetworkClass) =>
  `a ${network === 'private' ? 'private-network' : network} address`;

/**
 * Throws `unsafe_url` when `url` leads to a more private network than the server it was learned
 * from (`learnedFrom`), unless the application allowed private networks for that server. A
 * loopback server may name loopback, private and public URLs; a private one private and public
 * URLs; a public one only public URLs.
 */
export function assertNoMorePrivateNetwork(url: URL, options: NetworkRuleOptions): void {
  if (options.allowPrivateNetworks === true) return;
  const target = networkClassOf(url);
  const source = networkClassOf(options.learnedFrom);
  if (RANK[target] >= RANK[source]) return;
  throw oauthError(
    'unsafe_url',
    `${options.what} points to ${describe(target)}, a more private network than the server that named it ` +
      `(${describe(source)}); set "allowPrivateNetworks" for this server if that is intended`,
  );
}
