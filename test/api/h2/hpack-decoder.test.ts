import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HpackDecoder, HpackDecodeError } from '../../../src/api/h2/hpack-decoder';
import { encodeHeaderBlock } from '../../../src/api/h2/hpack-encoder';

function decodeAll(decoder: HpackDecoder, hex: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  decoder.decode(Buffer.from(hex, 'hex'), (name, value) => fields.push([name, value]));
  return fields;
}

const FIRST = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
const SECOND = [...FIRST, ['cache-control', 'no-cache']];
const THIRD = [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']];

test('decodes the request examples of RFC 7541 C.3 (raw strings), keeping the dynamic table across blocks', () => {
  const decoder = new HpackDecoder();
  assert.deepEqual(decodeAll(decoder, '828684410f7777772e6578616d706c652e636f6d'), FIRST);
  // 0xbe is dynamic index 62: the :authority the first block added.
  assert.deepEqual(decodeAll(decoder, '828684be58086e6f2d6361636865'), SECOND);
  // 0xbf is index 63: :authority again, now one entry older.
  assert.deepEqual(decodeAll(decoder, '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'), THIRD);
});

test('decodes the request examples of RFC 7541 C.4 (Huffman-coded strings)', () => {
  const decoder = new HpackDecoder();
  assert.deepEqual(decodeAll(decoder, '828684418cf1e3c2e5f23a6ba0ab90f4ff'), FIRST);
  assert.deepEqual(decodeAll(decoder, '828684be5886a8eb10649cbf'), SECOND);
  assert.deepEqual(decodeAll(decoder, '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'), THIRD);
});

test('evicts the oldest entries when the table is full (RFC 7541 C.5, a 256-octet table)', () => {
  const decoder = new HpackDecoder(4096);
  // A size update to 256 first, then C.5.1's response block.
  const update = '3fe101';
  decodeAll(decoder, update + '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d');
  // C.5.2: ":status 307" goes in, ":status 302" (the oldest, 42 octets) comes out.
  const second = decodeAll(decoder, '4803333037c1c0bf');
  assert.deepEqual(second, [[':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com']]);
  // Four entries are left: index 66 (one past them) is an error.
  assert.throws(() => decodeAll(decoder, 'c2'), HpackDecodeError);
});

test('refuses what RFC 7541 calls decoding errors, without throwing anything else', () => {
  const cases: Array<[string, string]> = [
    ['80', 'index 0'],
    ['be', 'an empty dynamic table'],
    ['3fe21f', 'a table size above the advertised 4096'],
    ['82' + '20', 'a size update after a field'],
    ['410f7777', 'a string longer than the block'],
    ['41ff', 'a truncated integer'],
    ['41', 'a truncated string'],
    ['4181ff', 'Huffman padding that is longer than 7 bits'],
    ['400141' + '00', 'an upper-case name'],
  ];
  for (const [hex, what] of cases) {
    assert.throws(() => decodeAll(new HpackDecoder(), hex), HpackDecodeError, what);
  }
});

test('the encoder writes literals a fresh decoder reads back, and they leave its table empty', () => {
  const headers = { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0', 'grpc-message': 'a%20b', 'x-many': ['1', '2'] };
  const decoder = new HpackDecoder();
  const block = encodeHeaderBlock(headers);
  assert.deepEqual(decodeAll(decoder, block.toString('hex')), [
    [':status', '200'],
    ['content-type', 'application/grpc'],
    ['grpc-status', '0'],
    ['grpc-message', 'a%20b'],
    ['x-many', '1'],
    ['x-many', '2'],
  ]);
  // Nothing was indexed: the first dynamic index still does not exist.
  assert.throws(() => decodeAll(decoder, 'be'), HpackDecodeError);
});
