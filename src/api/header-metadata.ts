import { Metadata, type MetadataValue } from '@grpc/grpc-js';
import type * as http2 from 'node:http2';

/** What grpc-js takes off the request headers before handlers see them as metadata. */
const TRANSPORT_HEADERS = new Set(['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type']);
/** grpc-js' rules for a metadata key and a text value; it drops entries that break them. */
const LEGAL_KEY = /^[0-9a-z_.-]+$/;
const LEGAL_TEXT_VALUE = /^[ -~]*$/;

type MetadataMap = Map<string, MetadataValue[]>;

/**
 * A call's request metadata, read from its HTTP/2 headers only as far as it is used.
 * Handlers ask each call for one to three text keys (hasleader, token, authorization);
 * answering those from the headers object skips building grpc-js' map of every header
 * (~4 % of a serializable read's CPU). Any other use (binary keys, iteration, changes,
 * merge, clone) first builds that map exactly as Metadata.fromHttp2Headers does, so this
 * behaves as grpc-js' request metadata in every respect.
 */
export class HeaderMetadata extends Metadata {
  private built: MetadataMap | undefined;

  constructor(private readonly headers: http2.IncomingHttpHeaders) {
    super();
    // grpc-js' methods (and merge() on other instances) read `internalRepr` directly: make
    // it build on first read.
    Object.defineProperty(this, 'internalRepr', {
      get: () => this.materialize(),
      set: (value: MetadataMap) => {
        this.built = value;
      },
      configurable: true,
    });
  }

  override get(key: string): MetadataValue[] {
    if (this.built !== undefined) return super.get(key);
    const name = key.toLowerCase();
    if (!LEGAL_KEY.test(name) || name.endsWith('-bin') || TRANSPORT_HEADERS.has(name)) return super.get(key);
    const value = this.headers[name];
    if (value === undefined) return [];
    if (!Array.isArray(value)) return LEGAL_TEXT_VALUE.test(value) ? [value] : [];
    // fromHttp2Headers stops at the first illegal value of a repeated header.
    const values: string[] = [];
    for (const item of value) {
      if (!LEGAL_TEXT_VALUE.test(item)) break;
      values.push(item);
    }
    return values;
  }

  private materialize(): MetadataMap {
    if (this.built === undefined) {
      const full = Metadata.fromHttp2Headers(this.headers);
      for (const name of TRANSPORT_HEADERS) full.remove(name);
      this.built = (full as unknown as { internalRepr: MetadataMap }).internalRepr;
    }
    return this.built;
  }
}
