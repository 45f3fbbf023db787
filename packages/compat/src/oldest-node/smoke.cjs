'use strict';
// The packages' CommonJS builds, loaded with require (ky and got, ESM only, are imported by the
// adapters when first needed). See flows.cjs.
const packages = {
  core: require('@mcp-oauth/core'),
  fetch: require('@mcp-oauth/fetch'),
  ky: require('@mcp-oauth/ky'),
  axios: require('@mcp-oauth/axios'),
  got: require('@mcp-oauth/got'),
  node: require('@mcp-oauth/node'),
  redis: require('@mcp-oauth/redis'),
};
for (const name of Object.keys(packages)) {
  const file = require.resolve(`@mcp-oauth/${name}`);
  if (!file.endsWith('.cjs'))
    throw new Error(`@mcp-oauth/${name} resolved to ${file}, not its CommonJS build`);
}

require('./flows.cjs')
  .run(packages, { axios: require('axios') })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
