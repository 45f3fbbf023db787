/**
 * The loop every fetch-like adapter runs around a {@link ResourceRequest}: send the step the
 * session planned, report the response, and send the next step until the session is done. Only
 * the I/O is the adapter's; which step comes next is the session's.
 */
import type { NextStep, ResourceRequest, ResourceResponse, SendStep } from './resource-request.js';

/** How an adapter sends one step and reads its library's response. */
export interface StepTransport<R> {
  send(step: SendStep): Promise<R>;
  /** What the session needs of a response: its status, headers and whether it is an opaque redirect. */
  read(response: R): ResourceResponse;
  /** Frees a response the caller will not get (its body is not read). */
  discard(response: R): Promise<void>;
}

/**
 * Sends `request`'s steps through `transport` and returns the response the caller gets. A response
 * followed by another step is discarded; when the session fails, the response in hand is discarded
 * before the error reaches the caller.
 */
export async function carryOut<R>(request: ResourceRequest, transport: StepTransport<R>): Promise<R> {
  for (let step: SendStep = request.first; ; ) {
    const response = await transport.send(step);
    let next: NextStep;
    try {
      next = await request.respond(transport.read(response));
    } catch (error) {
      await transport.discard(response);
      throw error;
    }
    if (next.type === 'done') return response;
    await transport.discard(response);
    step = next;
  }
}

/**
 * The headers of one send, built in one pass: `caller`'s (lower-case names, as `Headers` iterate
 * them), less the step's removals, plus the step's own. A plain record with each name an own data
 * property, `__proto__` included (an assignment would take that one as the prototype).
 */
export function stepHeaders(
  caller: Readonly<Record<string, string>>,
  step: SendStep,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in caller) {
    if (step.removeHeaders.includes(name)) continue;
    if (name === '__proto__')
      Object.defineProperty(headers, name, { value: caller[name], enumerable: true, writable: true });
    else headers[name] = caller[name]!;
  }
  return Object.assign(headers, step.headers);
}
