// The "$BROWSER" of the end-to-end tests: hands the URL it is given to the test's browser
// (test-utils/cli.ts), which follows the authorization and delivers the callback.
const url = process.argv.at(-1);
const control = process.env.MCP_OAUTH_TEST_BROWSER;
if (control === undefined || url === undefined) process.exit(2);
await fetch(control, { method: 'POST', body: url });
