import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { once } from 'node:events';
import type { Logger } from '../log';
import {
  alarmResponseToWire,
  hashKVResponseToWire,
  hashResponseToWire,
  snapshotResponseToWire,
  statusResponseToWire,
} from './codec/maintenance-wire';
import { wireEnum, wireInt64, wireUint64, type WireOut } from './codec/wire-scalars';
import { errorToServiceError } from './error-status';
import type { AlarmActionValue, AlarmTypeValue, MemberPort } from './member-port';
import { DecodeFailure, type DecodedRequest } from './method-codec';
import { requestContextFor } from './request-context';
import { unaryHandler } from './unary-handler';

export function maintenanceService(member: MemberPort, logger: Logger): UntypedServiceImplementation {
  return {
    Status: unaryHandler('Maintenance/Status', logger, async (_w, ctx) => {
      const answer = await member.maintenance.status(ctx);
      return statusResponseToWire(answer.header, answer.result);
    }),
    Hash: unaryHandler('Maintenance/Hash', logger, async (_w, ctx) => {
      const answer = await member.maintenance.hash(ctx);
      return hashResponseToWire(answer.header, answer.result);
    }),
    HashKV: unaryHandler('Maintenance/HashKV', logger, async (w, ctx) => {
      const answer = await member.maintenance.hashKV(wireInt64(w.revision), ctx);
      return hashKVResponseToWire(answer.header, answer.result.hash, answer.result.compactRevision);
    }),
    Alarm: unaryHandler('Maintenance/Alarm', logger, async (w, ctx) => {
      const action = wireEnum<AlarmActionValue>(w.action, 2);
      const alarm = wireEnum<AlarmTypeValue>(w.alarm, 2);
      const alarms = await member.maintenance.alarm(action, wireUint64(w.memberID), alarm, ctx);
      return alarmResponseToWire(alarms);
    }),
    // etcd 3.4 answers Defragment and MoveLeader with no header at all.
    Defragment: unaryHandler('Maintenance/Defragment', logger, async (_w, ctx) => {
      await member.maintenance.defragment(ctx);
      return {};
    }),
    MoveLeader: unaryHandler('Maintenance/MoveLeader', logger, async (w, ctx) => {
      await member.maintenance.moveLeader(wireUint64(w.targetID), ctx);
      return {};
    }),
    Snapshot: (call: ServerWritableStream<DecodedRequest, WireOut>) => {
      void snapshotStream(member, logger, call);
    },
  };
}

/** Streams snapshot chunks, waiting for the client to drain each before producing more. */
async function snapshotStream(member: MemberPort, logger: Logger, call: ServerWritableStream<DecodedRequest, WireOut>): Promise<void> {
  if (call.request instanceof DecodeFailure) {
    call.emit('error', errorToServiceError(call.request.error, logger, 'Maintenance/Snapshot'));
    return;
  }
  const { ctx } = requestContextFor(call);
  try {
    for await (const chunk of member.maintenance.snapshot(ctx)) {
      if (ctx.signal.aborted) return;
      if (!call.write(snapshotResponseToWire(chunk.header, chunk.result))) {
        await Promise.race([once(call, 'drain'), once(ctx.signal, 'abort')]);
      }
    }
    if (!ctx.signal.aborted) call.end();
  } catch (err) {
    if (!ctx.signal.aborted) call.emit('error', errorToServiceError(err, logger, 'Maintenance/Snapshot'));
  }
}
