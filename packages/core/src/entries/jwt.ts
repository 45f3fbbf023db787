/** `private_key_jwt` client authentication and JWT signing, opt in: `clientKey: privateKeyJwt({ privateKey })`. */
export {
  importSigningKey,
  jwtSigner,
  type PrivateKeyInput,
  privateKeyJwt,
  type SigningAlgorithm,
  type SigningKey,
  signJwt,
} from '../jwt.js';
