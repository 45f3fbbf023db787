/**
 * `OAuthClientProvider`s for the official SDK clients, written as the SDK's docs and examples
 * describe one (its `InMemoryOAuthClientProvider`, plus the optional methods a durable provider
 * implements): a random `state` per authorization (the SDK leaves checking it to the application),
 * and it keeps what the SDK saves — client information, tokens, the PKCE verifier and
 * the discovery state, so a restart needs no discovery — and deletes what `invalidateCredentials`
 * names. Its state is plain JSON, so another process can start from it. `redirectToAuthorization`
 * hands the URL to the application (here: the bench, which approves it or only counts it).
 */
import { randomBytes } from 'node:crypto';
import type {
  OAuthDiscoveryState as DiscoveryStateV2,
  OAuthClientProvider as ProviderV2,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import type {
  OAuthDiscoveryState as DiscoveryStateV1,
  OAuthClientProvider as ProviderV1,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { CLIENT_NAME, REDIRECT_URI } from './approve.js';

export interface ProviderState<Tokens = unknown, Client = unknown, Discovery = unknown> {
  clientInformation?: Client;
  tokens?: Tokens;
  codeVerifier?: string;
  discoveryState?: Discovery;
}

type Invalidated = 'all' | 'client' | 'tokens' | 'verifier' | 'discovery';

class StateProvider<Tokens, Client, Discovery> {
  /** Authorization URLs the SDK asked the application to send the user to. */
  readonly redirects: URL[] = [];
  readonly #saved: ProviderState<Tokens, Client, Discovery>;
  readonly #onRedirect: (url: URL) => void | Promise<void>;

  constructor(state: ProviderState, onRedirect: (url: URL) => void | Promise<void>) {
    this.#saved = structuredClone(state) as ProviderState<Tokens, Client, Discovery>;
    this.#onRedirect = onRedirect;
  }

  get redirectUrl(): string {
    return REDIRECT_URI;
  }

  get clientMetadata() {
    return {
      client_name: CLIENT_NAME,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  /** The `state` of the last authorization started, for the application to check on the callback. */
  lastState: string | undefined;

  state(): string {
    this.lastState = randomBytes(32).toString('base64url');
    return this.lastState;
  }

  clientInformation(): Client | undefined {
    return this.#saved.clientInformation;
  }

  saveClientInformation(clientInformation: Client): void {
    this.#saved.clientInformation = clientInformation;
  }

  tokens(): Tokens | undefined {
    return this.#saved.tokens;
  }

  saveTokens(tokens: Tokens): void {
    this.#saved.tokens = tokens;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.redirects.push(authorizationUrl);
    await this.#onRedirect(authorizationUrl);
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#saved.codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (this.#saved.codeVerifier === undefined) throw new Error('no code verifier saved');
    return this.#saved.codeVerifier;
  }

  invalidateCredentials(scope: Invalidated): void {
    if (scope === 'all' || scope === 'client') delete this.#saved.clientInformation;
    if (scope === 'all' || scope === 'tokens') delete this.#saved.tokens;
    if (scope === 'all' || scope === 'verifier') delete this.#saved.codeVerifier;
    if (scope === 'all' || scope === 'discovery') delete this.#saved.discoveryState;
  }

  saveDiscoveryState(state: Discovery): void {
    this.#saved.discoveryState = state;
  }

  discoveryState(): Discovery | undefined {
    return this.#saved.discoveryState;
  }

  /** A copy of everything saved, for a restarted process. */
  snapshot(): ProviderState {
    return structuredClone(this.#saved);
  }
}

export class SdkV1Provider
  extends StateProvider<OAuthTokens, OAuthClientInformationMixed, DiscoveryStateV1>
  implements ProviderV1 {}

export class SdkV2Provider
  extends StateProvider<StoredOAuthTokens, StoredOAuthClientInformation, DiscoveryStateV2>
  implements ProviderV2 {}
