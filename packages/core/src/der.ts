/**
 * A minimal DER reader and writer (X.690), enough to recognise and wrap the private key containers
 * a PEM block may hold: PKCS#8 `PrivateKeyInfo` (RFC 5208 §5), SEC1 `ECPrivateKey` (RFC 5915) and
 * PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2). A malformed structure throws `TypeError`, an EC key on
 * another curve `RangeError`; `signing-key.ts` turns both into `invalid_key`.
 */

interface DerElement {
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly start: number;
  /** Offset just past the last content byte. */
  readonly end: number;
}

function readDer(bytes: Uint8Array, offset: number, limit = bytes.length): DerElement {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw new TypeError('truncated DER');
  let start = offset + 2;
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new TypeError('unsupported DER length');
    length = 0;
    for (let index = 0; index < count; index++) {
      const byte = bytes[start + index];
      if (byte === undefined) throw new TypeError('truncated DER');
      length = length * 256 + byte;
    }
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new TypeError('truncated DER');
  return { tag, start, end };
}

/** The children of a constructed element. */
function readChildren(bytes: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readDer(bytes, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function derEncode(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const size = contents.reduce((total, part) => total + part.length, 0);
  const header = [tag, ...derLength(size)];
  const out = new Uint8Array(header.length + size);
  out.set(header, 0);
  let offset = header.length;
  for (const part of contents) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const OID_RSA_ENCRYPTION = Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
const OID_EC_PUBLIC_KEY = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);
const OID_P256 = Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);
const DER_NULL = Uint8Array.of(0x05, 0x00);
const DER_INTEGER_ZERO = Uint8Array.of(0x02, 0x01, 0x00);

/** True when `element` is exactly the TLV `expected` (tag, short-form length, content). */
function sameBytes(bytes: Uint8Array, element: DerElement, expected: Uint8Array): boolean {
  if (element.tag !== expected[0] || element.end - element.start !== expected.length - 2) return false;
  for (let index = 2; index < expected.length; index++) {
    if (bytes[element.start + index - 2] !== expected[index]) return false;
  }
  return true;
}

/** Reads the key algorithm from a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5). */
export function pkcs8Algorithm(der: Uint8Array): 'ES256' | 'RS256' | 'unsupported' {
  const outer = readDer(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new TypeError('not a PKCS#8 structure');
  const [version, algorithmIdentifier] = readChildren(der, outer);
  if (version?.tag !== 0x02 || algorithmIdentifier?.tag !== 0x30)
    throw new TypeError('not a PKCS#8 structure');
  const [oid, parameters] = readChildren(der, algorithmIdentifier);
  if (oid === undefined || oid.tag !== 0x06) throw new TypeError('not a PKCS#8 structure');
  if (sameBytes(der, oid, OID_RSA_ENCRYPTION)) return 'RS256';
  if (sameBytes(der, oid, OID_EC_PUBLIC_KEY)) {
    return parameters !== undefined && sameBytes(der, parameters, OID_P256) ? 'ES256' : 'unsupported';
  }
  return 'unsupported';
}

/** Wraps a SEC1 `ECPrivateKey` (RFC 5915) into PKCS#8, checking its curve is P-256. */
export function sec1ToPkcs8(der: Uint8Array): Uint8Array {
  const outer = readDer(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new TypeError('not an ECPrivateKey');
  const children = readChildren(der, outer);
  if (children[0]?.tag !== 0x02 || children[1]?.tag !== 0x04) throw new TypeError('not an ECPrivateKey');
  const parameters = children.find((child) => child.tag === 0xa0);
  if (parameters !== undefined) {
    const [curve] = readChildren(der, parameters);
    if (curve === undefined || !sameBytes(der, curve, OID_P256)) throw new RangeError('unsupported curve');
  }
  const algorithm = derEncode(0x30, OID_EC_PUBLIC_KEY, OID_P256);
  return derEncode(0x30, DER_INTEGER_ZERO, algorithm, derEncode(0x04, der));
}

/** Wraps a PKCS#1 `RSAPrivateKey` (RFC 8017 §A.1.2) into PKCS#8. */
export function pkcs1ToPkcs8(der: Uint8Array): Uint8Array {
  const outer = readDer(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new TypeError('not an RSAPrivateKey');
  const children = readChildren(der, outer);
  if (children.length < 9 || children.some((child) => child.tag !== 0x02)) {
    throw new TypeError('not an RSAPrivateKey');
  }
  const algorithm = derEncode(0x30, OID_RSA_ENCRYPTION, DER_NULL);
  return derEncode(0x30, DER_INTEGER_ZERO, algorithm, derEncode(0x04, der));
}
