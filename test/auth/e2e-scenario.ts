import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as http from 'node:http';
import * as path from 'node:path';
import { protoDir } from '../../src/paths';
import { EtcdClient, prefixEnd, RpcError, type Wire } from '../support/etcd-client';
import { etcdctl, etcdctlOk, EtcdctlSession } from '../support/etcdctl';

/**
 * The reader/writer scenario, runnable against latchkey and etcd 3.4 alike: root creates
 * `reader` (READ on prefix /app/) and `writer` (READWRITE on /app/), enables auth, and
 * each step's outcome is recorded as text ("ok …" or "<code> <message>") so two servers'
 * answers can be compared one by one.
 */

export const ROOT = 'root:rootpw';
export const READER = 'reader:rpw';
export const WRITER = 'writer:wpw';

/** Users, roles and permissions through etcdctl (as an operator does it), then auth enable. */
export async function setUpUsers(endpoint: string): Promise<void> {
  const steps: string[][] = [
    ['user', 'add', ROOT],
    ['user', 'add', READER],
    ['user', 'add', WRITER],
    ['role', 'add', 'app-read'],
    ['role', 'add', 'app-rw'],
    ['role', 'grant-permission', 'app-read', 'read', '/app/', '--prefix=true'],
    ['role', 'grant-permission', 'app-rw', 'readwrite', '/app/', '--prefix=true'],
    ['user', 'grant-role', 'reader', 'app-read'],
    ['user', 'grant-role', 'writer', 'app-rw'],
    ['auth', 'enable'],
  ];
  for (const args of steps) await etcdctlOk(endpoint, args);
}

export async function authenticate(client: EtcdClient, user: string): Promise<string> {
  const [name, password] = user.split(':');
  const answer = await client.call('Auth', 'Authenticate', { name, password });
  return String(answer.token);
}

/** "ok" or "<grpc code> <message>" of one call. */
async function outcome(run: () => Promise<unknown>, describeOk: (answer: Wire) => string = () => 'ok'): Promise<string> {
  try {
    return describeOk((await run()) as Wire);
  } catch (err) {
    if (err instanceof RpcError) return `${err.code} ${err.details}`;
    throw err;
  }
}

const md = (token: string | undefined): { metadata?: Record<string, string> } => (token === undefined ? {} : { metadata: { token } });

type LockClient = grpc.Client & Record<string, (req: Wire, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Wire) => void) => void>;

/** A raw client of v3lockpb.Lock or v3electionpb.Election (etcd's server-side helpers). */
function helperClient(endpoint: string, service: 'Lock' | 'Election'): LockClient {
  const [dir, file] = service === 'Lock' ? ['v3lockpb', 'v3lock.proto'] : ['v3electionpb', 'v3election.proto'];
  const definition = protoLoader.loadSync(path.join(protoDir(), dir, file), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
    includeDirs: [protoDir()],
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as Record<string, Record<string, grpc.ServiceClientConstructor>>;
  return new pkg[dir]![service]!(endpoint, grpc.credentials.createInsecure()) as unknown as LockClient;
}

function lockCall(client: LockClient, method: string, request: Wire, token: string | undefined): Promise<Wire> {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('token', token);
  return new Promise((resolve, reject) => {
    client[method]!(request, metadata, { deadline: Date.now() + 10_000 }, (err, res) => {
      if (err) reject(new RpcError(err.code, err.details));
      else resolve(res);
    });
  });
}

type ObserveClient = { Observe(req: Wire, md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientReadableStream<Wire> };

/** How an Election.Observe stream ends when it may not read the election's prefix. */
function observeOutcome(client: LockClient, name: string, token: string | undefined): Promise<string> {
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('token', token);
  const call = (client as unknown as ObserveClient).Observe({ name: Buffer.from(name) }, metadata, { deadline: Date.now() + 10_000 });
  return new Promise((resolve) => {
    let messages = 0;
    call.on('data', () => messages++);
    call.on('error', (err: grpc.ServiceError) => resolve(`error ${err.code} ${err.details} after ${messages}`));
    call.on('end', () => resolve(`end after ${messages}`));
  });
}

/** The first watch response to one create on a fresh stream, summarised. */
async function watchOutcome(client: EtcdClient, token: string | undefined, key: string, rangeEnd?: Buffer): Promise<string> {
  const stream = client.watchStream(token === undefined ? undefined : { token });
  try {
    stream.send({ create_request: { key: Buffer.from(key), ...(rangeEnd === undefined ? {} : { range_end: rangeEnd }) } });
    const r = await stream.next();
    return `created=${r.created === true} canceled=${r.canceled === true} watch_id=${r.watch_id ?? '0'} reason=${r.cancel_reason ?? ''}`;
  } finally {
    stream.close();
  }
}

/** POST to the JSON gateway; "status body" with the body's error fields only. */
function gatewayOutcome(clientPort: number, route: string, body: unknown, headers: Record<string, string>): Promise<string> {
  const json = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: clientPort, path: route, method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) return resolve('200');
          const parsed = JSON.parse(text) as { code?: number; message?: string };
          resolve(`${res.statusCode} ${parsed.code} ${parsed.message}`);
        });
      },
    );
    req.on('error', reject);
    req.end(json);
  });
}

/** The first line of a gateway watch stream (then the request is dropped), with the header left out. */
function gatewayWatchOutcome(clientPort: number, key: string, headers: Record<string, string>): Promise<string> {
  const body = JSON.stringify({ create_request: { key: Buffer.from(key).toString('base64') } });
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: clientPort, path: '/v3/watch', method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          const newline = text.indexOf('\n');
          if (newline < 0) return;
          req.destroy();
          const line = JSON.parse(text.slice(0, newline)) as { result?: Record<string, unknown> };
          const { header: _header, ...rest } = line.result ?? {};
          resolve(`${res.statusCode} ${JSON.stringify(rest)}`);
        });
      },
    );
    req.on('error', (err) => reject(err));
    req.setTimeout(10_000, () => req.destroy(new Error('no watch line within 10 s')));
    req.end(body);
  });
}

function etcdctlOutcome(result: { code: number | null; stdout: string; stderr: string }): string {
  if (result.code === 0) return `exit 0 ${result.stdout.trim()}`;
  const error = result.stderr.split('\n').find((line) => line.startsWith('Error:')) ?? result.stderr.trim();
  return `exit ${result.code} ${error}`;
}

/** Every step of the scenario against one server; the map is step → outcome. */
export async function runScenario(endpoint: string, clientPort: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const client = new EtcdClient(endpoint);
  const locks = helperClient(endpoint, 'Lock');
  const elections = helperClient(endpoint, 'Election');
  try {
    const reader = await authenticate(client, READER);
    const writer = await authenticate(client, WRITER);
    const b = (s: string): Buffer => Buffer.from(s);

    out.set('writer put /app/x', await outcome(() => client.put({ key: b('/app/x'), value: b('1') }, md(writer))));
    out.set('reader get /app/x', await outcome(() => client.range({ key: b('/app/x') }, md(reader)), (r) => `ok count=${r.count ?? '0'}`));
    out.set('reader get --prefix /app/', await outcome(() => client.range({ key: b('/app/'), range_end: prefixEnd('/app/') }, md(reader)), (r) => `ok count=${r.count ?? '0'}`));
    out.set('reader get /other', await outcome(() => client.range({ key: b('/other') }, md(reader))));
    out.set('reader put /app/x', await outcome(() => client.put({ key: b('/app/x'), value: b('2') }, md(reader))));
    out.set('reader delete /app/x', await outcome(() => client.deleteRange({ key: b('/app/x') }, md(reader))));
    out.set('writer put /other', await outcome(() => client.put({ key: b('/other'), value: b('2') }, md(writer))));
    out.set('writer put /app/y prev_kv', await outcome(() => client.put({ key: b('/app/y'), value: b('2'), prev_kv: true }, md(writer))));
    out.set('no token get /app/x', await outcome(() => client.range({ key: b('/app/x') })));
    out.set('no token put /app/x', await outcome(() => client.put({ key: b('/app/x'), value: b('3') })));
    out.set('bogus token get /app/x', await outcome(() => client.range({ key: b('/app/x') }, md('bogus.1'))));
    out.set('bogus token status', await outcome(() => client.status(md('bogus.1'))));
    out.set('bogus token lease grant', await outcome(() => client.leaseGrant({ TTL: 60 }, md('bogus.1'))));
    out.set('no token status', await outcome(() => client.status()));
    out.set('no token member list', await outcome(() => client.memberList()));
    out.set('no token lease grant', await outcome(() => client.leaseGrant({ TTL: 60 })));
    out.set('wrong password', await outcome(() => client.call('Auth', 'Authenticate', { name: 'reader', password: 'nope' })));
    out.set('bogus token authenticate', await outcome(() => client.call('Auth', 'Authenticate', { name: 'reader', password: 'rpw' }, md('bogus.1')), () => 'ok'));
    out.set('unknown user', await outcome(() => client.call('Auth', 'Authenticate', { name: 'nobody', password: 'nope' })));

    // A lease of the writer's carrying an /app/ key: only someone who may write that key may revoke it.
    const lease = await client.leaseGrant({ TTL: 60 }, md(writer));
    await client.put({ key: b('/app/leased'), value: b('v'), lease: lease.ID }, md(writer));
    out.set('reader revoke writer lease', await outcome(() => client.leaseRevoke({ ID: lease.ID }, md(reader))));
    out.set('reader put on writer lease', await outcome(() => client.put({ key: b('/app/z'), value: b('v'), lease: lease.ID }, md(reader))));
    out.set('reader lease time-to-live', await outcome(() => client.leaseTimeToLive({ ID: lease.ID, keys: true }, md(reader)), (r) => `ok keys=${(r.keys ?? []).length}`));
    out.set('writer revoke own lease', await outcome(() => client.leaseRevoke({ ID: lease.ID }, md(writer))));

    const compare = [{ key: b('/app/x'), target: 0, result: 0, version: 1 }];
    out.set('reader txn read-only', await outcome(() => client.txn({ compare, success: [{ request_range: { key: b('/app/x') } }] }, md(reader))));
    out.set('reader txn put in failure branch', await outcome(() => client.txn({ compare, failure: [{ request_put: { key: b('/app/x'), value: b('v') } }] }, md(reader))));
    out.set('writer txn compare /other', await outcome(() => client.txn({ compare: [{ key: b('/other'), target: 0, result: 0, version: 0 }] }, md(writer))));
    out.set('reader compact', await outcome(() => client.compact({ revision: 1 }, md(reader))));
    out.set('no token compact', await outcome(() => client.compact({ revision: 2 })));
    out.set('reader defragment', await outcome(() => client.call('Maintenance', 'Defragment', {}, md(reader))));
    out.set('reader hash', await outcome(() => client.call('Maintenance', 'Hash', {}, md(reader))));
    out.set('reader member add', await outcome(() => client.call('Cluster', 'MemberAdd', { peerURLs: ['http://127.0.0.1:1'] }, md(reader))));
    out.set('reader user list', await outcome(() => client.call('Auth', 'UserList', {}, md(reader))));
    out.set('reader user get self', await outcome(() => client.call('Auth', 'UserGet', { name: 'reader' }, md(reader)), (r) => `ok roles=${(r.roles ?? []).join(',')}`));

    out.set('reader watch /other', await watchOutcome(client, reader, '/other'));
    out.set('reader watch --prefix /app/', await watchOutcome(client, reader, '/app/', prefixEnd('/app/')));
    out.set('no token watch /app/x', await watchOutcome(client, undefined, '/app/x'));

    out.set('v3lock writer lock /app/l', await outcome(() => lockCall(locks, 'Lock', { name: b('/app/l') }, writer), (r) => `ok key-prefix=${String(Buffer.from(r.key).toString()).startsWith('/app/l/')}`));
    out.set('v3lock reader lock /app/l2', await outcome(() => lockCall(locks, 'Lock', { name: b('/app/l2') }, reader)));
    out.set('v3lock reader unlock /app/x', await outcome(() => lockCall(locks, 'Unlock', { key: b('/app/x') }, reader)));

    out.set('v3lock no token lock /app/l3', await outcome(() => lockCall(locks, 'Lock', { name: b('/app/l3') }, undefined)));
    out.set('v3election reader campaign /app/e3', await outcome(() => lockCall(elections, 'Campaign', { name: b('/app/e3'), value: b('x') }, reader)));
    out.set('v3election writer campaign /app/e4', await outcome(() => lockCall(elections, 'Campaign', { name: b('/app/e4'), value: b('x') }, writer), (r) => `ok leader=${Buffer.from(r.leader.key).toString().startsWith('/app/e4/')}`));
    out.set('v3election reader leader /app/e4', await outcome(() => lockCall(elections, 'Leader', { name: b('/app/e4') }, reader), (r) => `ok value=${Buffer.from(r.kv.value).toString()}`));
    out.set('v3election reader leader /other', await outcome(() => lockCall(elections, 'Leader', { name: b('/other') }, reader)));

    out.set('v3election reader observe /other', await observeOutcome(elections, '/other', reader));
    out.set('v3election no token observe /app/e4', await observeOutcome(elections, '/app/e4', undefined));

    out.set('etcdctl writer lock /app/el', etcdctlOutcome(await etcdctl(endpoint, ['--user', WRITER, 'lock', '/app/el', 'echo', 'held'])));
    out.set('etcdctl reader lock /app/el', etcdctlOutcome(await etcdctl(endpoint, ['--user', READER, 'lock', '/app/el', 'echo', 'held'])));
    out.set('etcdctl reader elect /app/e', etcdctlOutcome(await etcdctl(endpoint, ['--user', READER, 'elect', '/app/e', 'p2'])));
    const elect = new EtcdctlSession(endpoint, ['--user', WRITER, 'elect', '/app/e', 'p1']);
    try {
      const line = await elect.waitForLine((l) => l.startsWith('/app/e/'));
      out.set('etcdctl writer elect /app/e', `elected ${line.startsWith('/app/e/')}`);
      out.set('reader get --prefix /app/e/ (sees the leader)', await outcome(() => client.range({ key: b('/app/e/'), range_end: prefixEnd('/app/e/') }, md(reader)), (r) => `ok count=${r.count ?? '0'}`));
    } finally {
      await elect.stop('SIGINT');
    }

    const readBody = { key: b('/app/x').toString('base64') };
    out.set('gateway Authorization reader range', await gatewayOutcome(clientPort, '/v3/kv/range', readBody, { Authorization: reader }));
    out.set('gateway Authorization reader put', await gatewayOutcome(clientPort, '/v3/kv/put', { ...readBody, value: 'dg==' }, { Authorization: reader }));
    out.set('gateway no credentials range', await gatewayOutcome(clientPort, '/v3/kv/range', readBody, {}));
    out.set('gateway token header range', await gatewayOutcome(clientPort, '/v3/kv/range', readBody, { token: reader }));
    out.set('gateway bogus Authorization range', await gatewayOutcome(clientPort, '/v3/kv/range', readBody, { Authorization: 'bogus.1' }));
    out.set('gateway Authorization reader watch /other', await gatewayWatchOutcome(clientPort, '/other', { Authorization: reader }));
    out.set('gateway Authorization reader watch /app/x', await gatewayWatchOutcome(clientPort, '/app/x', { Authorization: reader }));
    return out;
  } finally {
    locks.close();
    elections.close();
    client.close();
  }
}
