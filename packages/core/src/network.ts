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
 * `0x7f.1`) need nothing here: the WHATWG URL parser already writes them as `127.0.0.1`.
 */
import { oauthError } from './errors.js';

/** From most to least private. */
export type NetworkClass = 'loopback' | 'private' | 'public';

const RANK: Readonly<Record<NetworkClass, number>> = { loopback: 0, private: 1, public: 2 };

function morePrivate(a: NetworkClass, b: NetworkClass): NetworkClass {
  return RANK[a] <= RANK[b] ? a : b;
}

/** `a.b.c.d` with each part 0–255, as a 32-bit number; the only IPv4 form a parsed URL holds. */
function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** The eight 16-bit groups of an IPv6 address (without brackets), `::` and a dotted tail allowed. */
function parseIpv6(text: string): number[] | undefined {
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon !== -1 && text.includes('.', lastColon)) {
    const ipv4 = parseIpv4(text.slice(lastColon + 1));
    if (ipv4 === undefined) return undefined;
    tail.push(Math.floor(ipv4 / 0x10000), ipv4 % 0x10000);
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === '') return [];
    const groups = part.split(':');
    if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
    return groups.map((group) => Number.parseInt(group, 16));
  };
  const left = groupsOf(halves[0]);
  const right = groupsOf(halves[1]);
  if (left === undefined || right === undefined) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 1) return given === 8 ? [...left, ...tail] : undefined;
  if (given > 7) return undefined;
  return [...left, ...Array<number>(8 - given).fill(0), ...right, ...tail];
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

function ipv4At(groups: readonly number[], index: number): number {
  return (groups[index] as number) * 0x10000 + (groups[index + 1] as number);
}

/** The IPv4 addresses an IPv6 address reaches or stands for (see the module comment). */
function embeddedIpv4(groups: readonly number[]): number[] {
  const [g0, g1, , , g4, g5] = groups as [number, number, number, number, number, number];
  const zeroThrough = (last: number) => groups.slice(0, last + 1).every((group) => group === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated)
  if (zeroThrough(4) && g5 === 0xffff) return [ipv4At(groups, 6)];
  if (zeroThrough(3) && g4 === 0xffff && g5 === 0) return [ipv4At(groups, 6)];
  // ::a.b.c.d (compatible); `::` and `::1` themselves are classified before this.
  if (zeroThrough(5)) return [ipv4At(groups, 6)];
  // 64:ff9b::/96 (well-known NAT64 prefix) and 64:ff9b:1::/48 (local-use NAT64, RFC 8215)
  if (g0 === 0x64 && g1 === 0xff9b) return [ipv4At(groups, 6)];
  // 2002:aabb:ccdd::/48 (6to4)
  if (g0 === 0x2002) return [ipv4At(groups, 1)];
  // 2001:0:<server>:<flags>:<port>:<client XOR ffff:ffff> (Teredo)
  if (g0 === 0x2001 && g1 === 0) return [ipv4At(groups, 2), 0xffffffff - ipv4At(groups, 6)];
  return [];
}

function classifyIpv6(groups: readonly number[]): NetworkClass {
  const g0 = groups[0] as number;
  if (groups.slice(0, 7).every((group) => group === 0)) {
    if (groups[7] === 1) return 'loopback'; // ::1
    if (groups[7] === 0) return 'private'; // :: (unspecified)
  }
  let own: NetworkClass = 'public';
  if (
    (g0 & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (g0 & 0xffc0) === 0xfe80 || // fe80::/10 link-local
    (g0 & 0xffc0) === 0xfec0 || // fec0::/10 site-local (deprecated)
    (g0 & 0xff00) === 0xff00 || // ff00::/8 multicast
    (g0 === 0x64 && groups[1] === 0xff9b && groups[2] === 1) // 64:ff9b:1::/48 local-use NAT64
  ) {
    own = 'private';
  }
  return embeddedIpv4(groups).map(classifyIpv4).reduce(morePrivate, own);
}

/** A parsed URL's host as an address: IPv4 as one 32-bit number, IPv6 as eight groups. */
type HostAddress =
  | { readonly kind: 'ipv4'; readonly address: number }
  | { readonly kind: 'ipv6'; readonly groups: readonly number[] }
  | { readonly kind: 'name'; readonly name: string };

function addressOf(hostname: string): HostAddress {
  const host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) {
    const groups = parseIpv6(host.slice(1, -1));
    if (groups !== undefined) return { kind: 'ipv6', groups };
  }
  const ipv4 = parseIpv4(host);
  if (ipv4 !== undefined) return { kind: 'ipv4', address: ipv4 };
  // `localhost.` is `localhost`: a trailing dot only makes the name fully qualified.
  return { kind: 'name', name: host.endsWith('.') ? host.slice(0, -1) : host };
}

/**
 * The network `url` leads to, judged by its host alone: `loopback` (127/8, `::1`, `localhost`,
 * `*.localhost`), `private` (see the module comment), or `public` (any other name or address).
 */
export function networkClassOf(url: URL): NetworkClass {
  const host = addressOf(url.hostname);
  switch (host.kind) {
    case 'ipv4':
      return classifyIpv4(host.address);
    case 'ipv6':
      return classifyIpv6(host.groups);
    default:
      return host.name === 'localhost' || host.name.endsWith('.localhost') ? 'loopback' : 'public';
  }
}

/** True for 169.254/16 and fe80::/10, in any of the forms of the module comment. */
export function isLinkLocalUrl(url: URL): boolean {
  const host = addressOf(url.hostname);
  const linkLocalIpv4 = (address: number) => inIpv4Range(address, '169.254.0.0', 16);
  if (host.kind === 'ipv4') return linkLocalIpv4(host.address);
  if (host.kind === 'name') return false;
  return ((host.groups[0] as number) & 0xffc0) === 0xfe80 || embeddedIpv4(host.groups).some(linkLocalIpv4);
}

export interface NetworkRuleOptions {
  /** What the URL is, for the error message: `"resource_metadata"`, `"token_endpoint"`, … */
  readonly what: string;
  /** The server whose header, document or response named the URL. */
  readonly learnedFrom: URL;
  /** The application's explicit permission for this server (never a server's own say). */
  readonly allowPrivateNetworks?: boolean | undefined;
}

const DESCRIPTION: Readonly<Record<NetworkClass, string>> = {
  loopback: 'a loopback address',
  private: 'a private-network address',
  public: 'a public address',
};

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
    `${options.what} points to ${DESCRIPTION[target]}, a more private network than the server that named it ` +
      `(${DESCRIPTION[source]}); set "allowPrivateNetworks" for this server if that is intended`,
  );
}
