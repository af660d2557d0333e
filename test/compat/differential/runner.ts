import {
  BidiStream,
  CompareResult,
  CompareTarget,
  EtcdClient,
  FilterType,
  RpcError,
  SortOrder,
  SortTarget,
  Wire,
  prefixEnd,
} from '../../support/etcd-client';
import { KeyBytes, LeaseRef, Req, RevRef, Scenario, Step, describeStep } from './scenario';
import { NormalizeContext, normalize } from './normalize';

/** One recorded step: its label and the normalized outcome. */
export interface TranscriptEntry {
  step: string;
  outcome: unknown;
}

const UNARY_SERVICE: Record<string, 'KV' | 'Lease'> = {
  Range: 'KV',
  Put: 'KV',
  DeleteRange: 'KV',
  Txn: 'KV',
  Compact: 'KV',
  LeaseGrant: 'Lease',
  LeaseRevoke: 'Lease',
  LeaseTimeToLive: 'Lease',
  LeaseLeases: 'Lease',
};
const MAX_STREAMS = 8;
/** A server that does not answer shows up as a DEADLINE_EXCEEDED step, not a test timeout. */
const CALL_DEADLINE_MS = 5_000;

/** Enum fields written with etcd's names in scenarios, sent as numbers (see etcd-client.ts). */
const ENUM_FIELDS: Record<string, Record<string, number>> = {
  sort_order: SortOrder,
  sort_target: SortTarget,
  result: CompareResult,
  target: CompareTarget,
  filters: FilterType,
};

class ScenarioRun {
  readonly ctx: NormalizeContext;
  private readonly streams = new Map<string, BidiStream>();

  constructor(
    private readonly client: EtcdClient,
    prefix: string,
    base: bigint,
  ) {
    this.ctx = { base, prefix: Buffer.from(prefix), leaseIds: [] };
  }

  /** Resolves refs and scenario-relative keys into a wire request. */
  resolve(field: string, value: unknown): unknown {
    if (value instanceof RevRef) return String(this.ctx.base + BigInt(value.offset));
    if (value instanceof LeaseRef) {
      const id = this.ctx.leaseIds[value.index];
      if (id === undefined) throw new Error(`scenario uses lease(${value.index}) before it was granted`);
      return id;
    }
    if (value instanceof KeyBytes) return Buffer.concat([this.ctx.prefix, value.bytes]);
    if (Buffer.isBuffer(value)) return value;
    if (typeof value === 'string') {
      const enumValues = ENUM_FIELDS[field];
      if (enumValues !== undefined) {
        const number = enumValues[value];
        if (number === undefined) throw new Error(`unknown ${field} value ${value}`);
        return number;
      }
      if (field === 'key') return value === '' ? Buffer.alloc(0) : Buffer.concat([this.ctx.prefix, Buffer.from(value)]);
      if (field === 'range_end') {
        if (value === '') return Buffer.alloc(0);
        if (value === '\0') return prefixEnd(this.ctx.prefix); // "every key from key on", within the scenario
        return Buffer.concat([this.ctx.prefix, Buffer.from(value)]);
      }
      if (field === 'value') return Buffer.from(value);
      return value;
    }
    if (Array.isArray(value)) return value.map((element) => this.resolve(field, element));
    if (value !== null && typeof value === 'object') {
      const out: Wire = {};
      for (const [name, inner] of Object.entries(value as Req)) out[name] = this.resolve(name, inner);
      return out;
    }
    return value;
  }

  private stream(name: string): BidiStream {
    const stream = this.streams.get(name);
    if (stream === undefined) throw new Error(`watch stream ${name} is not open`);
    return stream;
  }

  async run(step: Step): Promise<unknown> {
    switch (step.kind) {
      case 'call':
        return this.unary(step.call, this.resolve('', step.req) as Wire);
      case 'keepAlive': {
        const stream = this.client.keepAliveStream();
        try {
          stream.send(this.resolve('', step.req) as Wire);
          return normalize(await stream.next(5_000), this.ctx);
        } catch (error) {
          return errorOutcome(error);
        } finally {
          stream.close();
        }
      }
      case 'watchOpen':
        if (this.streams.size >= MAX_STREAMS) throw new Error('too many watch streams in one scenario');
        this.streams.set(step.stream, this.client.watchStream());
        return 'opened';
      case 'watchSend':
        this.stream(step.stream).send(this.resolve('', step.req) as Wire);
        return 'sent';
      case 'watchRecv':
        return this.receive(step.stream, step.count, step.timeoutMs, step.sorted);
      case 'watchQuiet': {
        const extra = await this.stream(step.stream).drain(step.ms);
        return extra.map((message) => normalize(message, this.ctx));
      }
      case 'watchClose':
        this.stream(step.stream).close();
        this.streams.delete(step.stream);
        return 'closed';
    }
  }

  private async unary(call: string, request: Wire): Promise<unknown> {
    try {
      const response = await this.client.call(UNARY_SERVICE[call]!, call, request, { deadlineMs: CALL_DEADLINE_MS });
      if (call === 'LeaseGrant' && typeof response.ID === 'string') this.ctx.leaseIds.push(response.ID);
      return this.postProcess(call, normalize(response, this.ctx));
    } catch (error) {
      return errorOutcome(error);
    }
  }

  /** Order-free lists sorted; remaining TTL bucketed (it depends on timing, not semantics). */
  private postProcess(call: string, response: Wire): Wire {
    if (call === 'LeaseLeases') {
      const labels = ((response.leases ?? []) as Wire[]).map((status) => status.ID as string);
      return { header: response.header, leases: labels.filter((label) => label !== 'L?').sort() };
    }
    if (call === 'LeaseTimeToLive') {
      if (Array.isArray(response.keys)) response.keys = [...(response.keys as string[])].sort();
      const ttl = Number(response.TTL ?? 0);
      const granted = Number(response.grantedTTL ?? 0);
      if (ttl > 0 && granted > 0 && granted - ttl >= 0 && granted - ttl <= 2) response.TTL = '~grantedTTL';
    }
    return response;
  }

  private async receive(name: string, count: number, timeoutMs: number, sorted: boolean): Promise<unknown> {
    const stream = this.stream(name);
    const received: Wire[] = [];
    try {
      for (let i = 0; i < count; i++) received.push(await stream.next(timeoutMs));
    } catch (error) {
      received.push({ missing: count - received.length, error: error instanceof RpcError ? errorOutcome(error) : String(error) });
    }
    if (sorted) received.sort((a, b) => Number(BigInt(a.watch_id ?? 0) - BigInt(b.watch_id ?? 0)));
    return received.map((message) => ('missing' in message ? message : normalize(message, this.ctx)));
  }

  /** Not compared: close streams and revoke this scenario's leases so later scenarios start clean. */
  async cleanUp(): Promise<void> {
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    for (const id of this.ctx.leaseIds) {
      await this.client.leaseRevoke({ ID: id }).catch(() => undefined);
    }
  }
}

function errorOutcome(error: unknown): unknown {
  if (error instanceof RpcError) return { error: { code: error.code, details: error.details } };
  return { error: { thrown: String(error) } };
}

/** Runs a scenario against one server and returns its normalized transcript. */
export async function runScenario(client: EtcdClient, scenario: Scenario, prefix: string): Promise<TranscriptEntry[]> {
  const start = await client.range({ key: Buffer.from('differential-start') });
  const run = new ScenarioRun(client, prefix, BigInt(start.header.revision));
  const transcript: TranscriptEntry[] = [];
  try {
    for (const step of scenario.steps) {
      transcript.push({ step: describeStep(step), outcome: await run.run(step) });
    }
  } finally {
    await run.cleanUp();
  }
  return transcript;
}

/** A readable report of where two transcripts differ, or undefined when they match. */
export function diffTranscripts(leftName: string, left: TranscriptEntry[], rightName: string, right: TranscriptEntry[]): string | undefined {
  const lines: string[] = [];
  const steps = Math.max(left.length, right.length);
  for (let i = 0; i < steps; i++) {
    const a = JSON.stringify(left[i]?.outcome ?? null);
    const b = JSON.stringify(right[i]?.outcome ?? null);
    if (a === b) continue;
    lines.push(`step ${i + 1}: ${left[i]?.step ?? right[i]?.step}`);
    lines.push(`  ${leftName.padEnd(9)}: ${a}`);
    lines.push(`  ${rightName.padEnd(9)}: ${b}`);
  }
  return lines.length === 0 ? undefined : lines.join('\n');
}

