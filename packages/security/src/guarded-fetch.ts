/**
 * The real `fetch`, with two additions for the suite: every URL the client asks for is recorded
 * before anything happens, and any host other than 127.0.0.1 is refused without a connection. A
 * test can then prove that the client never even tried to reach a link-local or foreign address,
 * and a bug cannot make the suite touch the network.
 */
export interface GuardedFetch {
  readonly fetch: typeof fetch;
  /** Every URL passed to `fetch`, in order (including refused ones). */
  readonly attempted: readonly string[];
  /** The recorded URLs whose host is not 127.0.0.1: refused before connecting. */
  readonly refused: readonly string[];
}

export function createGuardedFetch(): GuardedFetch {
  const attempted: string[] = [];
  const refused: string[] = [];
  const guarded: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    attempted.push(url);
    if (new URL(url).hostname !== '127.0.0.1') {
      refused.push(url);
      throw new TypeError('the security suite only connects to 127.0.0.1');
    }
    return globalThis.fetch(input, init);
  };
  return { fetch: guarded, attempted, refused };
}
