// Child process: one library sending one way (bare, or through its adapter), as an application
// has it. Each line in is a number of requests to send one at a time to the token server; each line
// out is their `Timing` (microseconds). The first line out (`{}`) says the sender works.
import { createInterface } from 'node:readline';
import { LIBRARIES, type LibraryName } from './libraries.js';
import { createSeededSession } from './seeded-session.js';

export type Variant = 'bare' | 'adapter';

export interface OverheadWorkerInput {
  readonly library: LibraryName;
  readonly variant: Variant;
  readonly url: string;
  readonly token: string;
}

/** Wall and CPU time (this process) of a number of requests, in microseconds. */
export interface Timing {
  wall: number;
  cpu: number;
  requests: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as OverheadWorkerInput;
const library = LIBRARIES[input.library];
const send =
  input.variant === 'bare'
    ? library.bare(input.url, input.token)
    : library.authorized(await createSeededSession(input.url, input.token, library.httpClient()), input.url);
await send(); // a sender that fails stops the run before anything is timed
process.stdout.write('{}\n');

for await (const line of createInterface({ input: process.stdin })) {
  const requests = Number(line);
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let index = 0; index < requests; index++) await send();
  const used = process.cpuUsage(cpu);
  const timing: Timing = { wall: (performance.now() - wall) * 1000, cpu: used.user + used.system, requests };
  process.stdout.write(`${JSON.stringify(timing)}\n`);
}
process.exit(0); // keep-alive sockets would hold the process open
