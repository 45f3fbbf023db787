/**
 * The closing table: one row per adapter, the outcome of each step, the requests each endpoint
 * received, and the scopes granted. Plain text, one line per row, so that it reads in a terminal
 * and parses in a test.
 */
import { type AdapterReport, OUTCOME_SYMBOLS, STEPS, type Step } from './flow.js';
import { ENDPOINTS, type Endpoint } from './request-counts.js';

const STEP_HEADERS: Readonly<Record<Step, string>> = {
  'first contact': '401',
  discovery: 'discover',
  registration: 'register',
  authorization: 'authorize',
  'tools/list': 'list',
  echo: 'echo',
  'step-up': 'step-up',
  refresh: 'refresh',
  'sign-out': 'sign-out',
};

const COUNT_HEADERS: Readonly<Record<Endpoint, string>> = {
  prm: 'PRM',
  asMetadata: 'AS',
  register: 'reg',
  authorize: 'authz',
  token: 'token',
  revoke: 'revoke',
  mcp: 'MCP',
};

export const TABLE_LEGEND = [
  'steps: ✓ passed  ✗ failed  – not applicable  · not run',
  'requests received per endpoint: PRM = protected resource metadata, AS = authorization server metadata,',
  'reg = registration, authz = authorization requests, token, revoke = revocation, MCP = the MCP endpoint',
];

export function renderTable(reports: readonly AdapterReport[]): string[] {
  const header = [
    'adapter',
    '│',
    ...STEPS.map((step) => STEP_HEADERS[step]),
    '│',
    ...ENDPOINTS.map((endpoint) => COUNT_HEADERS[endpoint]),
    '│',
    'scopes granted',
  ];
  const rows = reports.map((report) => [
    report.adapter,
    '│',
    ...STEPS.map((step) => {
      const outcome = report.steps.find((entry) => entry.step === step)?.outcome ?? 'not run';
      return OUTCOME_SYMBOLS[outcome];
    }),
    '│',
    ...ENDPOINTS.map((endpoint) => String(report.requests[endpoint] ?? '–')),
    '│',
    report.grantedScopes.join(' ') || '–',
  ]);
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const pad = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        if (column === 0 || column === cells.length - 1) return cell.padEnd(width);
        const left = Math.floor((width - cell.length) / 2);
        return `${' '.repeat(left)}${cell}`.padEnd(width);
      })
      .join(' ');
  const rule = pad(header).replace(/[^│]/g, '─').replace(/│/g, '┼');
  return [pad(header).trimEnd(), rule, ...rows.map((row) => pad(row).trimEnd())];
}
