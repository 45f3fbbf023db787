/**
 * Preload for the conformance suite's process (`node --import ./src/bind-loopback.mjs …`).
 *
 * The suite's mock servers call `listen(0)`, which binds every interface. This forces a listen
 * with no host, or with a wildcard host (`0.0.0.0`, `::`), onto 127.0.0.1, so nothing the suite
 * starts is reachable from another machine. Explicit hosts, UNIX sockets and handles are left
 * alone. The suite hands out `http://localhost:<port>` URLs, which still work: clients fall back
 * from ::1 to 127.0.0.1.
 *
 * It also keeps the suite's own outgoing `fetch` on loopback: the one request it makes to another
 * host (the `offline-access-scope` scenario tries to download the client's metadata document from
 * `https://conformance-test.local/…`) fails at once instead of going to DNS. The suite records
 * that as an INFO check, exactly as it does when the document cannot be fetched.
 */
import dns from 'node:dns';
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);

function isWildcard(host) {
  return host === undefined || host === null || WILDCARDS.has(host);
}

function isPort(value) {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

/** Rewrites the arguments of `server.listen(...)` so that a wildcard bind becomes loopback. */
export function loopbackListenArguments(args) {
  const [first, second, ...rest] = args;
  if (args.length === 0 || first === undefined || first === null || typeof first === 'function') {
    // listen() / listen(callback): a random port on every interface.
    return [0, LOOPBACK, ...args.filter((argument) => typeof argument === 'function')];
  }
  if (isPort(first)) {
    if (typeof second === 'string') return isWildcard(second) ? [first, LOOPBACK, ...rest] : args;
    if (args.length >= 2 && (second === undefined || second === null)) return [first, LOOPBACK, ...rest];
    // listen(port), listen(port, backlog, callback), listen(port, callback)
    return [first, LOOPBACK, ...args.slice(1)];
  }
  if (
    typeof first === 'object' &&
    !('_handle' in first) &&
    first.fd === undefined &&
    first.path === undefined
  ) {
    // listen({ port, host, ... })
    return isWildcard(first.host) ? [{ ...first, host: LOOPBACK }, ...args.slice(1)] : args;
  }
  return args; // a path, a handle or a file descriptor
}

/*
 * `listen(port, host)` resolves the host with `dns.lookup` and binds on its callback, so the port
 * would be unknown right after `listen()` returns; the suite reads `server.address().port` at once.
 * While a rewritten listen call runs, the lookup of 127.0.0.1 answers synchronously, which makes
 * the bind synchronous again, as it is for a listen without a host.
 */
let rewriting = false;
const lookup = dns.lookup;
dns.lookup = function lookupLoopbackSynchronously(hostname, ...rest) {
  if (rewriting && hostname === LOOPBACK) {
    const [options, callback] = rest;
    const done = typeof options === 'function' ? options : callback;
    const all = typeof options === 'object' && options !== null && options.all === true;
    if (all) done(null, [{ address: LOOPBACK, family: 4 }]);
    else done(null, LOOPBACK, 4);
    return {};
  }
  return lookup.call(this, hostname, ...rest);
};

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const rewritten = loopbackListenArguments(args);
  if (rewritten === args) return listen.apply(this, args);
  rewriting = true;
  try {
    return listen.apply(this, rewritten);
  } finally {
    rewriting = false;
  }
};

function isLoopbackHostname(hostname) {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

const originalFetch = globalThis.fetch;
if (typeof originalFetch === 'function') {
  globalThis.fetch = function loopbackFetch(input, init) {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!isLoopbackHostname(url.hostname)) {
      return Promise.reject(
        new TypeError('bind-loopback: the conformance suite may only reach loopback hosts'),
      );
    }
    return originalFetch.call(this, input, init);
  };
}
