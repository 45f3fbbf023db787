/**
 * The real `fetch`, with two additions for the suite: every URL the client asks for is recorded
 * before anything happens, and any host other than 127.0.0.1 is refused without a connection. A
 * test can then prove that the client never even tried to reach a link-local or foreign address,
 * and a bug cannot make the suite touch the network.
 *
 * A hostile server with a public name (`https://mcp.example.com`) is reached through an alias: the
 * request goes to the 127.0.0.1 port the server listens on, the way a hosts-file entry would send
 * it, and is recorded under the public URL the client asked for.
 */
export interface GuardedFetch {
  readonly fetch: typeof fetch;
  /** Every URL passed to `fetch`, in order (including refused ones). */
  readonly attempted: readonly string[];
  /** The recorded URLs whose host is not 127.0.0.1 (nor an alias of it): refused before connecting. */
  readonly refused: readonly string[];
  /** Sends requests for `origin` (`https://mcp.example.com`) to `loopbackOrigin` (`http://127.0.0.1:PORT`). */
  alias(origin: string, loopbackOrigin: string): void;
  /** The URL a request for `url` really goes to. */
  resolve(url: string): string;
}

export function createGuardedFetch(): GuardedFetch {
  const attempted: string[] = [];
  const refused: string[] = [];
  const aliases = new Map<string, string>();
  const resolve = (url: string): string => {
    const parsed = new URL(url);
    const target = aliases.get(parsed.origin);
    return target === undefined ? url : `${target}${parsed.pathname}${parsed.search}`;
  };
  const guarded: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    attempted.push(url);
    const target = resolve(url);
    if (new URL(target).hostname !== '127.0.0.1') {
      refused.push(url);
      throw new TypeError('the security suite only connects to 127.0.0.1');
    }
    if (target === url) return globalThis.fetch(input, init);
    const response = await globalThis.fetch(
      input instanceof Request ? new Request(target, input) : target,
      init,
    );
    // The client sees the URL it asked for, as it would after a hosts-file lookup.
    Object.defineProperty(response, 'url', { value: url });
    return response;
  };
  return {
    fetch: guarded,
    attempted,
    refused,
    alias: (origin, loopbackOrigin) => aliases.set(new URL(origin).origin, loopbackOrigin),
    resolve,
  };
}
