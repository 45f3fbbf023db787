/** Requests to the testkit server, counted per endpoint. */
import type { RecordedRequest } from '@mcp-oauth/testkit';

export const ENDPOINTS = ['prm', 'asMetadata', 'registration', 'authorize', 'token', 'mcp'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];
export type EndpointCounts = Record<Endpoint, number>;

export const ENDPOINT_LABELS: Readonly<Record<Endpoint, string>> = {
  prm: 'PRM',
  asMetadata: 'AS metadata',
  registration: 'registration',
  authorize: 'authorize',
  token: 'token',
  mcp: 'MCP',
};

export function endpointOf(request: RecordedRequest): Endpoint | undefined {
  const { path, method } = request;
  if (path.startsWith('/.well-known/oauth-protected-resource')) return 'prm';
  if (path.startsWith('/.well-known/oauth-authorization-server') || path.endsWith('/openid-configuration')) {
    return 'asMetadata';
  }
  if (method === 'POST' && path === '/register') return 'registration';
  if (method === 'GET' && path === '/authorize') return 'authorize';
  if (method === 'POST' && path === '/token') return 'token';
  if (path === '/mcp' || path.startsWith('/mcp/')) return 'mcp';
  return undefined;
}

export function emptyCounts(): EndpointCounts {
  return { prm: 0, asMetadata: 0, registration: 0, authorize: 0, token: 0, mcp: 0 };
}

export function countEndpoints(requests: readonly RecordedRequest[]): EndpointCounts {
  const counts = emptyCounts();
  for (const request of requests) {
    const endpoint = endpointOf(request);
    if (endpoint !== undefined) counts[endpoint]++;
  }
  return counts;
}

export const totalOf = (counts: EndpointCounts) => ENDPOINTS.reduce((sum, name) => sum + counts[name], 0);
