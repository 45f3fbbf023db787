/** Byte and text helpers over Web APIs only (no `Buffer`), so the engine runs in every runtime. */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8Encode(value: string): Uint8Array {
  return encoder.encode(value);
}

/** Decodes UTF-8, throwing `TypeError` on invalid input. */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function base64urlEncode(input: Uint8Array | ArrayBuffer | string): string {
  const bytes =
    typeof input === 'string'
      ? encoder.encode(input)
      : input instanceof Uint8Array
        ? input
        : new Uint8Array(input);
  let binary = '';
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64 or base64url (padding optional); throws `TypeError` on invalid input. */
export function base64Decode(value: string): Uint8Array {
  const normalized = value.replace(/-/g, '+').replace(/_/g, '/').replace(/\s+/g, '');
  const padded = normalized + '='.repeat((4 - (normalized.length % 4)) % 4);
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    throw new TypeError('invalid base64');
  }
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

export function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  crypto.getRandomValues(bytes);
  return bytes;
}

/** `length` random bytes as base64url: 32 bytes give 43 characters and 256 bits. */
export function randomToken(length = 32): string {
  return base64urlEncode(randomBytes(length));
}

export async function sha256(value: string | Uint8Array): Promise<Uint8Array> {
  const data = typeof value === 'string' ? encoder.encode(value) : value;
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
}
