import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IntervalUnion, PermType, RangePermissions, intervalOf, type Permission } from '../../src/auth/permissions';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const ALL = Buffer.from([0]);

function perm(permType: Permission['permType'], key: string, rangeEnd = ''): Permission {
  return { permType, key: b(key), rangeEnd: rangeEnd === '\0' ? ALL : b(rangeEnd) };
}

/** etcdctl --prefix: range end is the key with its last byte incremented. */
function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

describe('key-range permission maths (etcd rangePermCache)', () => {
  test('a single-key permission allows only that key', () => {
    const p = RangePermissions.of([perm(PermType.READ, 'foo')]);
    assert.equal(p.allows('read', b('foo'), b('')), true);
    assert.equal(p.allows('read', b('foo0'), b('')), false);
    assert.equal(p.allows('read', b('fo'), b('')), false);
    // A range of exactly that key: [foo, foo\0).
    assert.equal(p.allows('read', b('foo'), b('foo\0')), true);
    assert.equal(p.allows('read', b('foo'), b('foo0')), false);
    assert.equal(p.allows('write', b('foo'), b('')), false);
  });

  test('a prefix permission covers keys and sub-ranges under the prefix, nothing outside', () => {
    const p = RangePermissions.of([perm(PermType.READ, '/app/', prefixEnd('/app/'))]);
    assert.equal(p.allows('read', b('/app/x'), b('')), true);
    assert.equal(p.allows('read', b('/app/'), b(prefixEnd('/app/'))), true);
    assert.equal(p.allows('read', b('/app/a'), b('/app/b')), true);
    assert.equal(p.allows('read', b('/app'), b('')), false);
    assert.equal(p.allows('read', b('/app/'), b('/app1')), false, 'past the prefix end');
    assert.equal(p.allows('read', b('/app/'), ALL), false, 'open end is not covered');
    assert.equal(p.allows('read', b('/ap'), b('/app/z')), false);
  });

  test('an open-ended permission ("\\0") covers everything from its key on', () => {
    const p = RangePermissions.of([perm(PermType.WRITE, 'm', '\0')]);
    assert.equal(p.allows('write', b('m'), ALL), true);
    assert.equal(p.allows('write', b('zzz'), b('')), true);
    assert.equal(p.allows('write', b('x'), ALL), true);
    assert.equal(p.allows('write', b('l'), ALL), false);
    assert.equal(p.allows('write', b('\xff\xff'), b('')), true);
  });

  test('the whole keyspace: key "\\0" with range end "\\0"', () => {
    const p = RangePermissions.of([perm(PermType.READ, '\0', '\0')]);
    assert.equal(p.allows('read', ALL, ALL), true);
    assert.equal(p.allows('read', b('anything'), b('')), true);
    // The empty key sorts before "\0"; etcdctl never asks for it, etcd would deny it too.
    assert.equal(p.allows('read', b(''), ALL), false);
  });

  test('adjacent and overlapping permissions merge, gaps do not', () => {
    const p = RangePermissions.of([perm(PermType.READ, 'a', 'c'), perm(PermType.READ, 'c', 'e'), perm(PermType.READ, 'd', 'g')]);
    assert.equal(p.allows('read', b('a'), b('g')), true);
    assert.equal(p.allows('read', b('b'), b('f')), true);
    assert.equal(p.read.size, 1);
    const gap = RangePermissions.of([perm(PermType.READ, 'a', 'c'), perm(PermType.READ, 'd', 'g')]);
    assert.equal(gap.allows('read', b('a'), b('e')), false);
    assert.equal(gap.allows('read', b('c'), b('')), false);
    assert.equal(gap.allows('read', b('d'), b('')), true);
    // A single key next to a range merges with it: [a, a\0) + [a\0, b) = [a, b).
    const touching = RangePermissions.of([perm(PermType.READ, 'a'), perm(PermType.READ, 'a\0', 'b')]);
    assert.equal(touching.allows('read', b('a'), b('b')), true);
  });

  test('READWRITE counts for both; READ and WRITE only for their own kind', () => {
    const p = RangePermissions.of([perm(PermType.READWRITE, 'k'), perm(PermType.READ, 'r'), perm(PermType.WRITE, 'w')]);
    assert.deepEqual(
      ['k', 'r', 'w'].map((k) => [p.allows('read', b(k), b('')), p.allows('write', b(k), b(''))]),
      [[true, true], [true, false], [false, true]],
    );
  });

  test('an empty or inverted request range is never covered (etcd denies it)', () => {
    const p = RangePermissions.of([perm(PermType.READ, '\0', '\0')]);
    assert.equal(p.allows('read', b('b'), b('a')), false);
    assert.equal(p.allows('read', b('b'), b('b')), false);
  });

  test('no permissions: everything denied', () => {
    const p = RangePermissions.of([]);
    assert.equal(p.allows('read', b('a'), b('')), false);
    assert.equal(p.allows('write', b('a'), ALL), false);
  });

  test('IntervalUnion finds the covering interval among many (binary search)', () => {
    const intervals = Array.from({ length: 200 }, (_u, i) => intervalOf(b(`k${String(i * 2).padStart(4, '0')}`), b(`k${String(i * 2 + 1).padStart(4, '0')}`)));
    const union = new IntervalUnion(intervals);
    assert.equal(union.size, 200);
    assert.equal(union.containsKey(b('k0100')), true);
    assert.equal(union.containsKey(b('k0101')), false);
    assert.equal(union.covers(intervalOf(b('k0100'), b('k0101'))), true);
    assert.equal(union.covers(intervalOf(b('k0100'), b('k0102'))), false);
  });
});
