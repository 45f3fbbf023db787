import { withOAuth } from '@mcp-oauth/fetch';
import { createRedisStores } from '@mcp-oauth/redis';
import { createClient } from 'redis';

// Every worker on every machine runs this; one of them refreshes, the others wait for its tokens.
const redis = await createClient({ url: process.env.REDIS_URL! }).connect();
const tokenKey = { id: 'k1', key: Buffer.from(process.env.TOKEN_KEY!, 'base64') }; // 32 bytes
export const mcpFetch = withOAuth(fetch, {
  serverUrl: process.env.MCP_SERVER_URL!,
  client: { clientName: 'My gateway', redirectUris: ['http://127.0.0.1:33418/callback'] },
  stores: createRedisStores({ client: redis, prefix: 'my-gateway', encryption: { keys: [tokenKey] } }),
});
export { redis }; // not in the README: readme.test.ts closes the connection
