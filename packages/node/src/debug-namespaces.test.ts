import { describe, expect, it } from 'vitest';
import { namespaceOf, parseDebugNamespaces } from './debug-namespaces.js';

describe('namespaceOf', () => {
  it.each([
    ['discovery.as.found', 'mcp-oauth:discovery'],
    ['session.refresh', 'mcp-oauth:session'],
    ['http.request', 'mcp-oauth:http'],
    ['startup', 'mcp-oauth:startup'],
    ['', 'mcp-oauth'],
    ['.odd', 'mcp-oauth'],
  ])('%j → %s', (event, namespace) => {
    expect(namespaceOf(event)).toBe(namespace);
  });
});

describe('parseDebugNamespaces (the debug package convention)', () => {
  const table: [string | undefined, string, boolean][] = [
    [undefined, 'mcp-oauth:session', false],
    ['', 'mcp-oauth:session', false],
    ['mcp-oauth*', 'mcp-oauth:session', true],
    ['mcp-oauth*', 'mcp-oauth', true],
    ['mcp-oauth:*', 'mcp-oauth:discovery', true],
    ['*', 'mcp-oauth:token', true],
    ['mcp-oauth:session', 'mcp-oauth:session', true],
    ['mcp-oauth:session', 'mcp-oauth:sessions', false],
    ['mcp-oauth:session', 'mcp-oauth:token', false],
    ['express:*,mcp-oauth:token', 'mcp-oauth:token', true],
    ['express:*  mcp-oauth:token', 'mcp-oauth:token', true],
    ['express:*', 'mcp-oauth:token', false],
    ['*,-mcp-oauth:http', 'mcp-oauth:http', false],
    ['*,-mcp-oauth:http', 'mcp-oauth:session', true],
    ['-mcp-oauth:http,mcp-oauth*', 'mcp-oauth:http', false],
    ['-mcp-oauth*', 'mcp-oauth:session', false],
    ['mcp.oauth*', 'mcp-oauth:session', false], // `.` is a character, not a wildcard
    ['mcp-oauth:(session|token)', 'mcp-oauth:session', false], // nor is a group
    ['-', 'mcp-oauth:session', false],
  ];
  it.each(table)('DEBUG=%j enables %s: %s', (value, namespace, enabled) => {
    expect(parseDebugNamespaces(value)(namespace)).toBe(enabled);
  });
});
