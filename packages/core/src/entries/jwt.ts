/** `private_key_jwt` client authentication and JWT signing, opt in: `clientKey: privateKeyJwt({ privateKey })`. */
export { jwtSigner, privateKeyJwt, signJwt } from '../jwt.js';
export {
  importSigningKey,
  type PrivateKeyInput,
  type SigningAlgorithm,
  type SigningKey,
} from '../signing-key.js';
