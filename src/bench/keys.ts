import type { BenchOptions } from './options';

/**
 * Benchmark keys: the key number as zero-padded decimal, keySize bytes long (longer if the
 * number needs more digits). Sequential keys cycle through the key space; random keys are
 * uniform over it.
 */
export function keyNumber(seq: number, options: Pick<BenchOptions, 'sequentialKeys' | 'keySpaceSize'>): number {
  return options.sequentialKeys ? seq % options.keySpaceSize : Math.floor(Math.random() * options.keySpaceSize);
}

export function encodeKey(prefix: string, n: number, keySize: number): Buffer {
  const digits = String(n);
  const width = Math.max(0, keySize - prefix.length);
  return Buffer.from(prefix + digits.padStart(width, '0'));
}

/** A value of `size` bytes (filled with 'x', as etcd's benchmark fills with a constant). */
export function makeValue(size: number): Buffer {
  return Buffer.alloc(size, 'x');
}
