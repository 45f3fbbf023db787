/** Enterprise-managed authorization (ID-JAG), opt in: an assertion callback for the jwt-bearer grant. */
export {
  createIdJagAssertion,
  createIdJagRequester,
  ID_JAG_JWT_TYPE,
  type IdentityAssertionSupplier,
  type IdentityProviderClient,
  type IdentityProviderOptions,
  type IdJagOptions,
  type IdJagTarget,
  type JwtBearerAssertionCallback,
  requestIdJag,
  TOKEN_TYPE_SAML2,
} from '../enterprise.js';
