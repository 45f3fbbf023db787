import type { BodyKind, ContractBody } from './types.js';

export const BODY_KINDS: readonly BodyKind[] = [
  'json',
  'text',
  'urlsearchparams',
  'formdata',
  'bytes',
  'stream',
];

const encoder = new TextEncoder();

/** Bytes that are not valid UTF-8, so a library that decodes and re-encodes them is caught. */
function binaryBytes(): Uint8Array {
  const bytes = new Uint8Array(3000);
  for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 7 + 3) % 256;
  return bytes;
}

/** A fresh body of each kind (a stream can be read once, so make one per request). */
export function createContractBody(kind: BodyKind): ContractBody {
  switch (kind) {
    case 'json': {
      const value = {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'echo', text: 'héllo ✓' },
      };
      return {
        kind,
        value,
        expected: encoder.encode(JSON.stringify(value)),
        contentType: 'application/json',
      };
    }
    case 'text': {
      const value = 'plain text, accents é and a check ✓';
      return { kind, value, expected: encoder.encode(value), contentType: 'text/plain; charset=utf-8' };
    }
    case 'urlsearchparams': {
      const value = new URLSearchParams([
        ['a', '1'],
        ['b', 'x y&z'],
        ['c', 'é'],
      ]);
      return { kind, value, expected: encoder.encode(value.toString()) };
    }
    case 'formdata': {
      const content = 'file content: ✓ 0123456789';
      const value = new FormData();
      value.append('field', 'value');
      value.append('file', new Blob([content], { type: 'text/plain' }), 'note.txt');
      return { kind, value, expected: encoder.encode(content) };
    }
    case 'bytes': {
      const value = binaryBytes();
      return { kind, value, expected: value.slice(), contentType: 'application/octet-stream' };
    }
    case 'stream': {
      const expected = binaryBytes();
      const chunks = [expected.slice(0, 1000), expected.slice(1000, 2000), expected.slice(2000)];
      const value = new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk === undefined) controller.close();
          else controller.enqueue(chunk);
        },
      });
      return { kind, value, expected, contentType: 'application/octet-stream' };
    }
  }
}
