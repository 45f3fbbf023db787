import { packageBuild } from '../../tsup.shared.js';

export default packageBuild('neutral', {
  index: 'src/index.ts',
  adapter: 'src/entries/adapter.ts',
  protocol: 'src/entries/protocol.ts',
  dpop: 'src/entries/dpop.ts',
  jwt: 'src/entries/jwt.ts',
  enterprise: 'src/entries/enterprise.ts',
  device: 'src/entries/device.ts',
});
