import type { AuthGate, AuthIdentity } from '../auth/auth-gate';
import type { WatchCreateRequest, WatchResponseSink, WatchStream } from '../storage/mvcc/watch/types';
import { EtcdError } from '../errors';
import { goStatusString, leaseKeysOf, Permissions } from './auth-policy';
import type { KvPort, LeasePort, MemberPort, RequestContext, WatchPort } from './member-port';
import { identityResolverOf } from './request-context';

/**
 * The member as one caller sees it: every KV call, lease revoke and watch create is
 * checked with that caller's identity, resolved afresh for each (`identityNow`), before it runs. etcd's v3lock and v3election run
 * the Go concurrency code through an embedded client that carries the caller's token, so
 * each of its Range/Put/Txn/DeleteRange/Watch calls is checked like a client's; the
 * server-side mutex and election run against this port to get the same checks.
 */
export function authorizedMember(member: MemberPort, gate: AuthGate, identityNow: () => AuthIdentity | null): MemberPort {
  const permissionsFor = (ctx: RequestContext): Permissions =>
    new Permissions(gate, identityNow(), (lease) => leaseKeysOf(member, lease, ctx));
  const kv: KvPort = {
    range: async (req, ctx) => {
      permissionsFor(ctx).read(req.key, req.rangeEnd);
      return member.kv.range(req, ctx);
    },
    put: async (req, ctx) => {
      await permissionsFor(ctx).put(req);
      return member.kv.put(req, ctx);
    },
    deleteRange: async (req, ctx) => {
      permissionsFor(ctx).deleteRange(req);
      return member.kv.deleteRange(req, ctx);
    },
    txn: async (req, ctx) => {
      await permissionsFor(ctx).txn(req);
      return member.kv.txn(req, ctx);
    },
    compact: (req, ctx) => member.kv.compact(req, ctx),
  };
  const lease: LeasePort = {
    grant: (ttl, id, ctx) => member.lease.grant(ttl, id, ctx),
    revoke: async (id, ctx) => {
      await permissionsFor(ctx).leaseRevoke(id);
      return member.lease.revoke(id, ctx);
    },
    keepAlive: (id, ctx) => member.lease.keepAlive(id, ctx),
    timeToLive: (id, keys, ctx) => member.lease.timeToLive(id, keys, ctx),
    leases: (ctx) => member.lease.leases(ctx),
  };
  const watch: WatchPort = {
    openStream: (sink) => new AuthorizedWatchStream(member.watch.openStream(sink), sink, () => new Permissions(gate, identityNow(), () => Promise.resolve([]))),
    headerFor: (revision) => member.watch.headerFor(revision),
  };
  return { kv, lease, watch, cluster: member.cluster, maintenance: member.maintenance, limits: member.limits };
}

/** A watch stream whose creates need READ on the watched range, answered as etcd refuses one. */
class AuthorizedWatchStream implements WatchStream {
  constructor(
    private readonly inner: WatchStream,
    private readonly sink: WatchResponseSink,
    private readonly permissions: () => Permissions,
  ) {}

  create(req: WatchCreateRequest): void {
    try {
      this.permissions().read(req.key.length === 0 ? Buffer.from([0]) : req.key, req.rangeEnd);
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err;
      this.sink({
        headerRevision: 0n,
        watchId: -1n,
        created: true,
        canceled: true,
        compactRevision: 0n,
        cancelReason: goStatusString(err),
        fragment: false,
        events: [],
      });
      return;
    }
    this.inner.create(req);
  }

  cancel(watchId: bigint): void {
    this.inner.cancel(watchId);
  }

  requestProgress(): void {
    this.inner.requestProgress();
  }

  close(): void {
    this.inner.close();
  }
}

/**
 * For a service that runs etcd's embedded client (v3lock, v3election): `shared` when auth
 * plays no part in a call, else a fresh `make(...)` over a member that checks every inner
 * KV, lease and watch call as the caller (etcd's embedded client carries the caller's token).
 */
export function perCaller<T>(shared: T, make: (scoped: MemberPort) => T, member: MemberPort, gate: AuthGate): (ctx: RequestContext) => T {
  return (ctx) =>
    ctx.identity === undefined || (ctx.identity === null && !gate.enabled())
      ? shared
      : make(authorizedMember(member, gate, identityResolverOf(ctx) ?? (() => ctx.identity ?? null)));
}
