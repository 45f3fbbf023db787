/** DPoP (RFC 9449), opt in: `new OAuthSession({ …, dpop: dpop() })`. */
export {
  computeJwkThumbprint,
  createDpopProof,
  type DpopKey,
  type DpopKeyPair,
  DpopNonceStore,
  dpop,
  exportDpopKey,
  generateDpopKey,
  importDpopKey,
  type TokenProofSigner,
  tokenRequestProofs,
} from '../dpop.js';
