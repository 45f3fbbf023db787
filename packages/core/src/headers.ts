/**
 * Headers as the adapters' libraries hand them over: a fetch `Headers`, an axios `AxiosHeaders`,
 * a got/Node `IncomingHttpHeaders` record (values may be arrays), or a plain record.
 */
export type HeadersInput =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, string | readonly string[] | number | undefined | null>>;

/** Reads one header case-insensitively; repeated values are joined with `, `. */
export function readHeader(headers: HeadersInput | undefined, name: string): string | undefined {
  if (headers === undefined || headers === null) return undefined;
  const lower = name.toLowerCase();
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): unknown }).get(lower);
    if (value === null || value === undefined) return undefined;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined || value === null) continue;
    return Array.isArray(value) ? value.join(', ') : String(value);
  }
  return undefined;
}
