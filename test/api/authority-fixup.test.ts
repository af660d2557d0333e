import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { AuthorityFixupParser, AuthorityFixupStream, CLIENT_PREFACE_BYTES, rewriteHeadersFrame } from '../../src/api/authority-fixup';
import { rewriteAuthorityInBlock, sanitizeAuthority } from '../../src/api/hpack-authority';
import { encodeInteger } from '../../src/api/h2/hpack-encoder';
import { huffmanDecode, HuffmanDecodeError, huffmanEncode } from '../../src/api/hpack-huffman';
import { EtcdctlSession, etcdctlOk } from '../support/etcdctl';
import { ServerProcess, startLatchkey, stopAll } from '../support/processes';
import { skipUnlessBinaries } from '../support/skip';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('HPACK Huffman decoding', () => {
  test('decodes the RFC 7541 appendix C.4 examples', () => {
    assert.equal(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff')).toString(), 'www.example.com');
    assert.equal(huffmanDecode(hex('a8eb 1064 9cbf')).toString(), 'no-cache');
    assert.equal(huffmanDecode(hex('25a8 49e9 5ba9 7d7f')).toString(), 'custom-key');
    assert.equal(huffmanDecode(hex('25a8 49e9 5bb8 e8b4 bf')).toString(), 'custom-value');
    assert.equal(huffmanDecode(hex('6402')).toString(), '302'); // C.6.1
    assert.equal(huffmanDecode(Buffer.alloc(0)).length, 0);
  });

  test('round-trips every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(huffmanDecode(huffmanEncode(all)), all);
    assert.deepEqual(huffmanEncode(Buffer.from('www.example.com')), hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
  });

  test('rejects EOS in the data and bad padding', () => {
    assert.throws(() => huffmanDecode(hex('ffffffff')), HuffmanDecodeError); // EOS (30 ones)
    assert.throws(() => huffmanDecode(hex('ff')), HuffmanDecodeError); // 8 bits of padding
    assert.throws(() => huffmanDecode(hex('18')), HuffmanDecodeError); // 'a' then zero padding
    assert.equal(huffmanDecode(hex('1f')).toString(), 'a'); // 'a' then one-padding
  });
});

/** String literal: H bit + 7-bit length + bytes. */
function str(value: string, huffman: boolean): Buffer {
  const raw = huffman ? huffmanEncode(Buffer.from(value, 'latin1')) : Buffer.from(value, 'latin1');
  return Buffer.concat([encodeInteger(raw.length, 7, huffman ? 0x80 : 0x00), raw]);
}

type LiteralKind = 'incremental' | 'without' | 'never';
const LITERAL_PREFIX: Record<LiteralKind, [bits: number, flags: number]> = {
  incremental: [6, 0x40],
  without: [4, 0x00],
  never: [4, 0x10],
};

/** A literal header field: name by index (number) or as a string literal. */
function literal(kind: LiteralKind, name: number | string, value: string, huffman: boolean, nameHuffman = huffman): Buffer {
  const [bits, flags] = LITERAL_PREFIX[kind];
  const namePart =
    typeof name === 'number' ? encodeInteger(name, bits, flags) : Buffer.concat([Buffer.from([flags]), str(name, nameHuffman)]);
  return Buffer.concat([namePart, str(value, huffman)]);
}

const indexed = (index: number): Buffer => encodeInteger(index, 7, 0x80);
const sizeUpdate = (size: number): Buffer => encodeInteger(size, 5, 0x20);

/** The other fields of a grpc-go request, none of them :authority. */
function requestFieldsWithoutAuthority(): Buffer[] {
  return [
    sizeUpdate(4096),
    indexed(3), // :method POST
    indexed(6), // :scheme http
    literal('incremental', 4, '/etcdserverpb.Maintenance/Status', true), // :path
    literal('incremental', 'content-type', 'application/grpc', true),
    literal('without', 'user-agent', 'grpc-go/1.33.1', false),
    literal('never', 'authorization', 'secret-token', true),
    literal('without', 20, 'ignored', false), // name index 20: two-byte integer with a 4-bit prefix
    literal('incremental', 'te', 'trailers', false),
    indexed(62), // a dynamic-table entry
  ];
}

describe('HPACK :authority rewriting', () => {
  test('a block without :authority is left byte-identical', () => {
    assert.equal(rewriteAuthorityInBlock(Buffer.concat(requestFieldsWithoutAuthority())), undefined);
  });

  test('valid authorities are left alone', () => {
    const block = Buffer.concat([literal('incremental', 1, '127.0.0.1:2379', true), ...requestFieldsWithoutAuthority()]);
    assert.equal(rewriteAuthorityInBlock(block), undefined);
    assert.equal(rewriteAuthorityInBlock(Buffer.concat([indexed(1), indexed(62)])), undefined);
  });

  const cases: Array<{ label: string; kind: LiteralKind; name: number | string; huffman: boolean; nameHuffman?: boolean }> = [
    { label: 'static index 1, incremental indexing, Huffman value', kind: 'incremental', name: 1, huffman: true },
    { label: 'static index 1, without indexing, plain value', kind: 'without', name: 1, huffman: false },
    { label: 'static index 1, never indexed, Huffman value', kind: 'never', name: 1, huffman: true },
    { label: 'literal name, incremental indexing, plain', kind: 'incremental', name: ':authority', huffman: false },
    { label: 'Huffman literal name, never indexed', kind: 'never', name: ':authority', huffman: true },
    { label: 'plain literal name, Huffman value, without indexing', kind: 'without', name: ':authority', huffman: true, nameHuffman: false },
  ];
  for (const { label, kind, name, huffman, nameHuffman } of cases) {
    test(`rewrites an invalid authority (${label}) to a plain literal of the same decoded length`, () => {
      const fields = requestFieldsWithoutAuthority();
      const before = Buffer.concat(fields.slice(0, 3));
      const afterFields = Buffer.concat(fields.slice(3));
      const original = literal(kind, name, 'http://127.0.0.1:2379', huffman, nameHuffman ?? huffman);
      const expected = Buffer.concat([before, literal(kind, name, 'http:__127.0.0.1:2379', false, nameHuffman ?? huffman), afterFields]);
      // The name part is copied as sent: only the value changes representation.
      const rewritten = rewriteAuthorityInBlock(Buffer.concat([before, original, afterFields]));
      assert.deepEqual(rewritten, expected);
    });
  }

  test('rewrites every :authority in the block and keeps lengths', () => {
    const longValue = `http://${'a'.repeat(200)}/x?y#z`; // length needs a multi-byte integer
    const block = Buffer.concat([literal('incremental', 1, longValue, true), indexed(2), literal('never', ':authority', 'a b', false)]);
    const expected = Buffer.concat([
      literal('incremental', 1, longValue.replace(/[/?# ]/g, '_'), false),
      indexed(2),
      literal('never', ':authority', 'a_b', false),
    ]);
    assert.deepEqual(rewriteAuthorityInBlock(block), expected);
  });

  test('leaves malformed blocks to nghttp2', () => {
    const good = literal('incremental', 1, 'http://x', false);
    assert.equal(rewriteAuthorityInBlock(good.subarray(0, good.length - 1)), undefined); // truncated value
    assert.equal(rewriteAuthorityInBlock(hex('7f ff ff ff ff ff ff')), undefined); // endless integer
    assert.equal(rewriteAuthorityInBlock(Buffer.concat([hex('41 81 ff')])), undefined); // bad Huffman
  });

  test('sanitizeAuthority replaces exactly the bytes nghttp2 rejects', () => {
    assert.equal(sanitizeAuthority(Buffer.from("user@[::1]:80%25-._~!$&'()*+,;=")), undefined);
    assert.equal(sanitizeAuthority(Buffer.from('a/b?c#d e"\u00e9', 'latin1'))?.toString('latin1'), 'a_b_c_d_e__');
  });
});

// ---- HTTP/2 frames -------------------------------------------------------------------------

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** HEADERS payload with optional padding and priority fields. */
function headersPayload(block: Buffer, padding?: number, priority = false): Buffer {
  const parts: Buffer[] = [];
  if (padding !== undefined) parts.push(Buffer.from([padding]));
  if (priority) parts.push(hex('80000003 0f'));
  parts.push(block);
  if (padding !== undefined) parts.push(Buffer.alloc(padding, 0));
  return Buffer.concat(parts);
}

const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

/** A client byte stream and what the server must receive. */
function sampleStreams(): { input: Buffer; expected: Buffer } {
  const bad = Buffer.concat([literal('incremental', 1, 'http://127.0.0.1:2379', true), ...requestFieldsWithoutAuthority()]);
  const fixed = Buffer.concat([literal('incremental', 1, 'http:__127.0.0.1:2379', false), ...requestFieldsWithoutAuthority()]);
  const badRepeat = Buffer.concat([indexed(62), literal('never', ':authority', 'h/2', true)]);
  const fixedRepeat = Buffer.concat([indexed(62), literal('never', ':authority', 'h_2', false, true)]);
  const common = {
    settings: frame(0x4, 0, 0, hex('000300000064 00040000ffff')),
    windowUpdate: frame(0x8, 0, 0, hex('0000ffff')),
    data: frame(0x0, 0x1, 1, Buffer.alloc(16384, 7)),
    ping: frame(0x6, 0, 0, hex('0102030405060708')),
    // Continued headers are forwarded untouched, invalid authority and all.
    continued: Buffer.concat([
      frame(0x1, 0, 5, headersPayload(bad.subarray(0, 10))),
      frame(0x9, END_HEADERS, 5, bad.subarray(10)),
    ]),
    emptyHeaders: frame(0x1, END_HEADERS, 7, Buffer.alloc(0)),
    cleanHeaders: frame(0x1, END_HEADERS | PRIORITY, 9, headersPayload(Buffer.concat(requestFieldsWithoutAuthority()), undefined, true)),
  };
  const build = (first: Buffer, second: Buffer): Buffer =>
    Buffer.concat([
      PREFACE,
      common.settings,
      common.windowUpdate,
      frame(0x1, END_HEADERS, 1, headersPayload(first)),
      common.data,
      common.ping,
      common.continued,
      common.emptyHeaders,
      frame(0x1, END_HEADERS | PADDED | PRIORITY, 3, headersPayload(second, 6, true)),
      common.cleanHeaders,
      common.data,
    ]);
  return { input: build(bad, badRepeat), expected: build(fixed, fixedRepeat) };
}

/** Deterministic PRNG (mulberry32), so a failing chunking can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runChunked(input: Buffer, sizes: () => number): { output: Buffer; rewritten: number } {
  const parser = new AuthorityFixupParser();
  const out: Buffer[] = [];
  for (let pos = 0; pos < input.length; ) {
    const size = Math.max(1, Math.min(input.length - pos, sizes()));
    out.push(...parser.push(input.subarray(pos, pos + size)));
    pos += size;
  }
  return { output: Buffer.concat(out), rewritten: parser.rewrittenFrames };
}

describe('HTTP/2 frame tracking', () => {
  test('rewrites only complete HEADERS frames with an invalid authority', () => {
    const { input, expected } = sampleStreams();
    const { output, rewritten } = runChunked(input, () => input.length);
    assert.deepEqual(output, expected);
    assert.equal(rewritten, 2);
  });

  test('gives the same output for any chunking (seeded random chunk sizes)', () => {
    const { input, expected } = sampleStreams();
    for (let seed = 1; seed <= 60; seed++) {
      const random = seededRandom(seed);
      const maxChunk = [1, 3, 9, 17, 100, 4096, 70000][seed % 7]!;
      const { output } = runChunked(input, () => 1 + Math.floor(random() * maxChunk));
      assert.deepEqual(output, expected, `seed ${seed}, chunks up to ${maxChunk} bytes`);
    }
  });

  test('forwards pass-through chunks as they are, without copying', () => {
    const parser = new AuthorityFixupParser();
    const preface = Buffer.from(PREFACE);
    assert.deepEqual(parser.push(preface.subarray(0, CLIENT_PREFACE_BYTES)), [preface]);
    const data = frame(0x0, 0, 1, Buffer.alloc(1000, 1));
    const [forwarded, ...rest] = parser.push(data);
    assert.equal(forwarded, data);
    assert.equal(rest.length, 0);
  });

  test('keeps padding and priority fields and fixes the frame length', () => {
    const block = literal('without', 1, 'http://h:1', true);
    const header = frame(0x1, END_HEADERS | PADDED | PRIORITY, 1, headersPayload(block, 3, true));
    const rewritten = rewriteHeadersFrame(header.subarray(0, 9), header.subarray(9));
    const fixedBlock = literal('without', 1, 'http:__h:1', false);
    assert.deepEqual(rewritten, frame(0x1, END_HEADERS | PADDED | PRIORITY, 1, headersPayload(fixedBlock, 3, true)));
    // Padding longer than the payload: malformed, forwarded as it is.
    assert.equal(rewriteHeadersFrame(hex('000001 01 0c 00000001'), hex('09')), undefined);
  });
});

describe('AuthorityFixupStream over a real socket', () => {
  /** A TCP server that echoes what its wrapped connections read (i.e. the fixed bytes). */
  async function echoServer(): Promise<{ port: number; wrapped: AuthorityFixupStream[]; close(): void }> {
    const wrapped: AuthorityFixupStream[] = [];
    const server = net.createServer((socket) => {
      const stream = new AuthorityFixupStream(socket);
      wrapped.push(stream);
      stream.pipe(stream);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as net.AddressInfo).port, wrapped, close: () => server.close() };
  }

  test('several MiB through both directions with backpressure; the client end ends the connection', async () => {
    const { input, expected } = sampleStreams();
    const bulk = Array.from({ length: 300 }, (_, i) => frame(0x0, 0, 1, Buffer.alloc(16384, i & 0xff)));
    const server = await echoServer();
    try {
      const client = net.connect(server.port, '127.0.0.1');
      const received: Buffer[] = [];
      client.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = once(client, 'end');
      for (const piece of [input, ...bulk]) if (!client.write(piece)) await once(client, 'drain');
      client.end();
      await ended;
      assert.deepEqual(Buffer.concat(received), Buffer.concat([expected, ...bulk]));
      assert.equal(server.wrapped[0]!.rewrittenFrames, 2);
      assert.equal(server.wrapped[0]!.remotePort, client.localPort);
      await once(client, 'close');
    } finally {
      server.close();
    }
  });

  test('destroying the stream closes the client connection', async () => {
    const server = await echoServer();
    try {
      const client = net.connect(server.port, '127.0.0.1');
      client.on('error', () => undefined);
      client.write(PREFACE);
      await once(client, 'data'); // echoed: the server side is attached
      const closed = once(client, 'close');
      server.wrapped[0]!.destroy();
      await closed;
      assert.equal(server.wrapped[0]!.socket.destroyed, true);
    } finally {
      server.close();
    }
  });
});

// ---- Real Go client --------------------------------------------------------------------------

describe('etcdctl 3.4 dialling http:// endpoints', { skip: skipUnlessBinaries('etcdctl') }, () => {
  let server: ServerProcess;
  let url: string;

  before(async () => {
    server = await startLatchkey();
    url = server.clientUrl;
  });
  after(() => stopAll());

  test('endpoint status -w json answers', async () => {
    const status = JSON.parse(await etcdctlOk(url, ['endpoint', 'status', '-w', 'json'])) as Array<{ Endpoint: string; Status: { version: string } }>;
    assert.equal(status.length, 1);
    assert.equal(status[0]!.Endpoint, url);
    assert.equal(status[0]!.Status.version, '3.4.23');
  });

  test('endpoint status --cluster dials the advertised client URLs', async () => {
    const status = JSON.parse(await etcdctlOk(url, ['endpoint', 'status', '--cluster', '-w', 'json'])) as Array<{ Endpoint: string }>;
    assert.deepEqual(
      status.map((entry) => entry.Endpoint),
      [url],
    );
  });

  test('put, get and endpoint hashkv', async () => {
    assert.equal((await etcdctlOk(url, ['put', 'authority-key', 'v1'])).trim(), 'OK');
    assert.equal(await etcdctlOk(url, ['get', 'authority-key']), 'authority-key\nv1\n');
    const hash = await etcdctlOk(url, ['endpoint', 'hashkv']);
    assert.match(hash, new RegExp(`^${url.replace(/[.]/g, '\\.')}, \\d+\\n$`));
  });

  test('lock runs several calls on one connection (later HEADERS index the fixed authority)', async () => {
    // Lease grant, txn, range, watch and revoke share one HTTP/2 connection: if the HPACK
    // dynamic tables of etcdctl and nghttp2 drifted apart, a later call would fail.
    assert.equal(await etcdctlOk(url, ['lock', 'authority-lock', 'echo', 'held-the-lock']), 'held-the-lock\n');
  });

  test('watch sees a put made afterwards', async () => {
    const watch = new EtcdctlSession(url, ['watch', 'authority-watched']);
    try {
      // The watch is registered once a put made after it shows up; retry puts until then.
      const seen = watch.waitForLines(3);
      for (let attempt = 0; attempt < 50 && watch.stdoutLines().length < 3; attempt++) {
        await etcdctlOk(url, ['put', 'authority-watched', `v${attempt}`]);
        await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      const lines = await seen;
      assert.deepEqual(lines.slice(0, 2), ['PUT', 'authority-watched']);
      assert.match(lines[2]!, /^v\d+$/);
    } finally {
      await watch.stop();
    }
  });
});
