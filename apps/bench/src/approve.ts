/** Plays the user who approves at once: one real GET of the authorization URL, the redirect read back. */
export async function approve(authorizationUrl: string): Promise<string> {
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (response.status !== 302 || location === null) {
    throw new Error(`the authorization endpoint answered ${response.status}`);
  }
  return location;
}

/** Where the callback would land; nothing listens there, the redirect is read from the 302. */
export const REDIRECT_URI = 'http://127.0.0.1:53682/callback';
export const CLIENT_NAME = 'mcp-oauth bench';
