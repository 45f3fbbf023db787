export { BODY_KINDS, createContractBody } from './bodies.js';
export { describeAdapterContract } from './contract.js';
export { type DpopClaims, decodeDpopProof, verifyDpopProof } from './dpop.js';
export { type EchoServer, startEchoServer } from './echo-server.js';
export { startTestProxy, type TestProxy } from './proxy.js';
export {
  closeServer,
  type EchoBody,
  type Gate,
  jsonReply,
  listenOnLoopback,
  type RecordedRequest,
  type Reply,
} from './recording.js';
export { type IssuedToken, startTestServer, type TestServer, type TestServerOptions } from './server.js';
export type {
  AdapterClient,
  AdapterHarness,
  BodyKind,
  ContractBody,
  ContractRequest,
  ContractResponse,
  HarnessOptions,
} from './types.js';
