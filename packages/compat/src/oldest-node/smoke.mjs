// The packages' ES module builds, loaded with import. See flows.cjs.
import * as axiosAdapter from '@mcp-oauth/axios';
import * as core from '@mcp-oauth/core';
import * as fetchAdapter from '@mcp-oauth/fetch';
import * as gotAdapter from '@mcp-oauth/got';
import * as kyAdapter from '@mcp-oauth/ky';
import * as node from '@mcp-oauth/node';
import * as redis from '@mcp-oauth/redis';
import axios from 'axios';
import flows from './flows.cjs';

const packages = {
  core,
  fetch: fetchAdapter,
  ky: kyAdapter,
  axios: axiosAdapter,
  got: gotAdapter,
  node,
  redis,
};
try {
  await flows.run(packages, { axios });
} catch (error) {
  console.error(error);
  process.exit(1);
}
