/**
 * The session's logger: keeps the engine's events (which never carry a secret) so that each step
 * can be judged by what the engine did, and prints a readable line for the ones a reader cares
 * about as they happen. Only named fields are printed, never an event's data as a whole.
 */
import type { OAuthLogger } from '@mcp-oauth/core';

export interface EngineEvent {
  readonly level: 'debug' | 'warn';
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export class EngineLog implements OAuthLogger {
  readonly #events: EngineEvent[] = [];
  readonly #print: (line: string) => void;
  readonly #authorizationNote: string;

  /** `authorizationNote` says who answers the consent page (the demo server itself, or a person). */
  constructor(print: (line: string) => void, authorizationNote: string) {
    this.#print = print;
    this.#authorizationNote = authorizationNote;
  }

  debug(event: string, data: Record<string, unknown> = {}): void {
    this.#record({ level: 'debug', event, data });
  }

  warn(event: string, data: Record<string, unknown> = {}): void {
    this.#record({ level: 'warn', event, data });
  }

  /** A position in the log, for {@link since}. */
  get length(): number {
    return this.#events.length;
  }

  since(position: number): readonly EngineEvent[] {
    return this.#events.slice(position);
  }

  #record(entry: EngineEvent): void {
    this.#events.push(entry);
    const line = this.#describe(entry);
    if (line !== undefined) this.#print(`      · ${line}`);
  }

  #describe({ level, event, data }: EngineEvent): string | undefined {
    const text = (field: string) => String(data[field]);
    switch (event) {
      case 'session.decision':
        return `${text('status')}${data.error === undefined ? '' : ` ${text('error')}`} from the MCP server → ${text('decision').replace('_', '-')}`;
      case 'discovery.prm.found':
        return `protected resource metadata: ${text('url')}`;
      case 'discovery.as.found':
        return `authorization server: ${text('issuer')}`;
      case 'registration.dynamic':
        return 'registered a client (dynamic registration, RFC 7591)';
      case 'registration.reused':
        return 'using the client registered on an earlier run';
      case 'registration.pre_registered':
        return 'using the pre-registered client';
      case 'registration.metadata_document':
        return 'client identified by its metadata document URL';
      case 'session.authorization_started':
        return `authorization request with PKCE: ${this.#authorizationNote}`;
      case 'session.step_up':
        return `step-up to ${formatScopes(data.scopes)}`;
      case 'session.refresh':
        return 'refreshing the access token (no user involved)';
      case 'token.response':
        return `token endpoint: ${text('grant')} → ${text('status')}`;
      case 'token.revoke':
        return `revoking the ${text('hint').replace('_', ' ')}`;
      default:
        return level === 'warn'
          ? `warning ${event}${data.code === undefined ? '' : ` (${text('code')})`}`
          : undefined;
    }
  }
}

export function formatScopes(scopes: unknown): string {
  return Array.isArray(scopes) && scopes.length > 0 ? scopes.join(' ') : '(none)';
}
