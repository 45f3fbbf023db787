/**
 * The login and consent interaction of oidc-provider, as two express routes. The demo user is
 * signed in without a password; the person decides on the consent page (or `autoApprove` decides
 * for them). Approve records a grant of the requested scopes on the requested resources (all of
 * them, or those `grantScopes` picks, the others recorded as rejected); Deny ends the request with
 * `access_denied`, which oidc-provider sends to the client's redirect URI together with `state`
 * and `iss`.
 *
 * The interaction cookie that oidc-provider sets is bound to `/interaction/<uid>` and is
 * `SameSite=Lax`, so another site cannot post a decision in the user's name.
 */
import express, { type Express, type Request, type Response } from 'express';
import type { Client, InteractionResults, Provider } from 'oidc-provider';
import type { ConsentRequest } from './options.js';
import { renderConsentPage, renderErrorPage } from './pages.js';
import { describeScope, OFFLINE_ACCESS_SCOPE, splitScopes } from './scopes.js';

export const DEMO_ACCOUNT_ID = 'demo-user';
const DEMO_USER_NAME = 'Demo User';

export interface InteractionSettings {
  readonly provider: Provider;
  readonly autoApprove: boolean;
  /** Which of the requested scopes an approval grants; default all. */
  readonly grantScopes: ((request: ConsentRequest) => readonly string[]) | undefined;
  /** Whether the client will get a refresh token (shown on the consent page as `offline_access`). */
  readonly refreshes: (client: Client) => boolean;
  /** Display names of known resources, by resource indicator. */
  readonly resourceNames: ReadonlyMap<string, string>;
}

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

function requestedResources(interaction: Interaction): string[] {
  const resource = interaction.params.resource;
  if (typeof resource === 'string') return [resource];
  if (Array.isArray(resource)) return resource.filter((entry): entry is string => typeof entry === 'string');
  return [];
}

/**
 * The grant for an approval: the requested scopes `grantScopes` keeps (default all), as static
 * scopes and on each requested resource (oidc-provider issues each resource only the scopes it
 * offers). The scopes left out are recorded as rejected: oidc-provider would otherwise ask for
 * consent to them again. Every approval is a new grant, even in a browser that already has one for
 * the client: a client that steps up revokes the refresh token it replaces, and revoking a refresh
 * token revokes its whole grant — which must not take the new tokens with it.
 */
async function grantRequested(
  settings: InteractionSettings,
  interaction: Interaction,
  accountId: string,
): Promise<string> {
  const clientId = String(interaction.params.client_id);
  const grant = new settings.provider.Grant({ accountId, clientId });
  const requested = splitScopes(interaction.params.scope);
  const resources = requestedResources(interaction);
  const kept = settings.grantScopes?.({ clientId, scopes: requested, resources }) ?? requested;
  const granted = requested.filter((scope) => kept.includes(scope));
  const rejected = requested.filter((scope) => !granted.includes(scope));
  if (granted.length > 0) {
    grant.addOIDCScope(granted);
    for (const resource of resources) grant.addResourceScope(resource, granted);
  }
  if (rejected.length > 0) {
    grant.rejectOIDCScope(rejected);
    for (const resource of resources) grant.rejectResourceScope(resource, rejected);
  }
  return grant.save();
}

async function approve(
  settings: InteractionSettings,
  request: Request,
  response: Response,
  interaction: Interaction,
) {
  const accountId = interaction.session?.accountId ?? DEMO_ACCOUNT_ID;
  const result: InteractionResults = {
    consent: { grantId: await grantRequested(settings, interaction, accountId) },
  };
  if (interaction.session === undefined) result.login = { accountId };
  await settings.provider.interactionFinished(request, response, result, { mergeWithLastSubmission: false });
}

/**
 * The requested scopes, with `offline_access` shown exactly when the client will get a refresh
 * token — which here depends on its registration, not on the request (see authorization-server.ts).
 */
function scopesToShow(interaction: Interaction, refreshes: boolean): string[] {
  const scopes = splitScopes(interaction.params.scope).filter((scope) => scope !== OFFLINE_ACCESS_SCOPE);
  return refreshes ? [...scopes, OFFLINE_ACCESS_SCOPE] : scopes;
}

async function showConsent(settings: InteractionSettings, response: Response, interaction: Interaction) {
  const clientId = String(interaction.params.client_id);
  const client = await settings.provider.Client.find(clientId);
  const redirectUri = interaction.params.redirect_uri;
  const refreshes = client === undefined ? false : settings.refreshes(client);
  const page = renderConsentPage({
    clientName: client?.clientName,
    clientId,
    redirectUri: typeof redirectUri === 'string' ? redirectUri : undefined,
    scopes: scopesToShow(interaction, refreshes).map((scope) => ({
      scope,
      description: describeScope(scope),
    })),
    resources: requestedResources(interaction).map((url) => ({ url, name: settings.resourceNames.get(url) })),
    action: `/interaction/${encodeURIComponent(interaction.uid)}`,
    userName: DEMO_USER_NAME,
  });
  response.status(200).set(page.headers).send(page.html);
}

function showError(response: Response, status: number, error: string, description: string): void {
  const page = renderErrorPage({ error, description });
  response.status(status).set(page.headers).send(page.html);
}

/** The interaction for this request, or `undefined` after answering with an error page. */
async function loadInteraction(
  settings: InteractionSettings,
  request: Request,
  response: Response,
): Promise<Interaction | undefined> {
  try {
    const interaction = await settings.provider.interactionDetails(request, response);
    if (interaction.uid === request.params.uid) return interaction;
  } catch {
    // An expired interaction, or a browser without the interaction cookie.
  }
  showError(
    response,
    400,
    'invalid_request',
    'This sign-in request has expired or belongs to another browser.',
  );
  return undefined;
}

export function mountInteractions(app: Express, settings: InteractionSettings): void {
  app.get('/interaction/:uid', async (request, response) => {
    const interaction = await loadInteraction(settings, request, response);
    if (interaction === undefined) return;
    if (settings.autoApprove) return approve(settings, request, response, interaction);
    return showConsent(settings, response, interaction);
  });

  app.post(
    '/interaction/:uid',
    express.urlencoded({ extended: false, limit: '4kb' }),
    async (request, response) => {
      const interaction = await loadInteraction(settings, request, response);
      if (interaction === undefined) return;
      const decision = (request.body as Record<string, unknown> | undefined)?.decision;
      if (decision === 'approve') return approve(settings, request, response, interaction);
      if (decision === 'deny') {
        return settings.provider.interactionFinished(
          request,
          response,
          { error: 'access_denied', error_description: 'The user denied the request.' },
          { mergeWithLastSubmission: false },
        );
      }
      return showError(response, 400, 'invalid_request', 'Choose Approve or Deny.');
    },
  );
}
