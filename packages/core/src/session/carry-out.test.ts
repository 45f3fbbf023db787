import { describe, expect, it } from 'vitest';
import { carryOut, stepHeaders } from './carry-out.js';
import type { NextStep, ResourceRequest, SendStep } from './resource-request.js';

const step = (url: string): SendStep => ({
  type: 'send',
  reason: 'retry',
  url,
  method: 'GET',
  withBody: false,
  removeHeaders: [],
  headers: {},
  redirect: 'manual',
});

/** A request whose session answers each response with the next of `answers`. */
function requestAnswering(answers: (NextStep | Error)[]): ResourceRequest & { statuses: number[] } {
  const statuses: number[] = [];
  return {
    statuses,
    first: step('https://mcp.example.com/1'),
    async respond({ status }) {
      statuses.push(status);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no answer left');
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as ResourceRequest & { statuses: number[] };
}

function transport() {
  const sent: string[] = [];
  const discarded: number[] = [];
  return {
    sent,
    discarded,
    send: async (next: SendStep) => {
      sent.push(next.url);
      return { status: 400 + sent.length };
    },
    read: (response: { status: number }) => ({ status: response.status, headers: {} }),
    discard: async (response: { status: number }) => {
      discarded.push(response.status);
    },
  };
}

describe('carryOut', () => {
  it('sends each step the session plans and returns the last response, discarding the others', async () => {
    const request = requestAnswering([step('https://mcp.example.com/2'), { type: 'done' }]);
    const io = transport();
    const response = await carryOut(request, io);
    expect(response).toEqual({ status: 402 });
    expect(io.sent).toEqual(['https://mcp.example.com/1', 'https://mcp.example.com/2']);
    expect(request.statuses).toEqual([401, 402]);
    expect(io.discarded).toEqual([401]);
  });

  it('discards the response in hand and rethrows when the session fails', async () => {
    const failure = new Error('authorization failed');
    const request = requestAnswering([failure]);
    const io = transport();
    await expect(carryOut(request, io)).rejects.toBe(failure);
    expect(io.discarded).toEqual([401]);
  });
});

describe('stepHeaders', () => {
  const send = (removeHeaders: string[], headers: Record<string, string>): SendStep => ({
    ...step('https://mcp.example.com/'),
    removeHeaders,
    headers,
  });

  it("starts from the caller's headers, removes the step's removals and sets the step's own", () => {
    const caller = { accept: 'application/json', authorization: 'Bearer caller', cookie: 'a=1' };
    const headers = stepHeaders(
      caller,
      send(['authorization', 'cookie'], { authorization: 'Bearer session' }),
    );
    expect(headers).toEqual({ accept: 'application/json', authorization: 'Bearer session' });
    expect(caller).toEqual({ accept: 'application/json', authorization: 'Bearer caller', cookie: 'a=1' });
  });

  it('keeps names like object properties as plain data on an ordinary record', () => {
    const caller = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
    const headers = stepHeaders(caller, send([], {}));
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.entries(headers)).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
    ]);
  });
});
