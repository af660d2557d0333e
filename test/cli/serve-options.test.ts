import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addServeFlags, configFromOptions, parseDurationMs } from '../../src/cli/serve-options';
import { ConfigError } from '../../src/server/config';

describe('latchkey serve takes etcd flags and ETCD_* variables', () => {
  test('no flags: one member on 127.0.0.1:2379 with data in default.latchkey', () => {
    const config = configFromOptions({}, {});
    assert.equal(config.name, 'default');
    assert.equal(config.dataDir, 'default.latchkey');
    assert.deepEqual(config.listenClientUrls, ['http://127.0.0.1:2379']);
    assert.deepEqual([...config.initialCluster.entries()], [['default', ['http://127.0.0.1:2380']]]);
    assert.equal(config.snapshotCount, 10_000);
    assert.equal(config.maxRequestBytes, 1_572_864);
    assert.equal(config.maxTxnOps, 128);
  });

  test('the data dir and one-member cluster follow --name', () => {
    const config = configFromOptions({ name: 'n1', initialAdvertisePeerUrls: 'http://127.0.0.1:12380' }, {});
    assert.equal(config.dataDir, 'n1.latchkey');
    assert.deepEqual([...config.initialCluster.entries()], [['n1', ['http://127.0.0.1:12380']]]);
  });

  test('ETCD_* variables are read, and flags win over them', () => {
    const env = { ETCD_NAME: 'from-env', ETCD_SNAPSHOT_COUNT: '500', ETCD_HEARTBEAT_INTERVAL: '50' };
    const fromEnv = configFromOptions({}, env);
    assert.equal(fromEnv.name, 'from-env');
    assert.equal(fromEnv.snapshotCount, 500);
    assert.equal(fromEnv.heartbeatIntervalMs, 50);
    const flagWins = configFromOptions({ snapshotCount: '700' }, env);
    assert.equal(flagWins.snapshotCount, 700);
  });

  test('an initial cluster that lacks this member, a bad URL or a bad number is refused', () => {
    assert.throws(() => configFromOptions({ name: 'x', initialCluster: 'a=http://127.0.0.1:1' }, {}), ConfigError);
    assert.throws(() => configFromOptions({ listenClientUrls: 'not a url' }, {}), ConfigError);
    assert.throws(() => configFromOptions({ snapshotCount: 'many' }, {}), ConfigError);
    assert.throws(() => configFromOptions({ initialClusterState: 'maybe' }, {}), ConfigError);
  });

  test('Go-style durations', () => {
    assert.equal(parseDurationMs('10m', 'f'), 600_000);
    assert.equal(parseDurationMs('1m30s', 'f'), 90_000);
    assert.equal(parseDurationMs('250ms', 'f'), 250);
    assert.throws(() => parseDurationMs('soon', 'f'), ConfigError);
  });

  test("etcd's boolean TLS flags work bare, with =true/=false, and do not swallow the next flag", () => {
    const parse = (argv: string[]) => {
      const command = addServeFlags(new Command('serve')).exitOverride();
      command.parse(argv, { from: 'user' });
      return configFromOptions(command.opts(), {});
    };
    const bare = parse(['--client-cert-auth', '--trusted-ca-file', 'ca.crt', '--peer-auto-tls']);
    assert.equal(bare.clientTls.clientCertAuth, true);
    assert.equal(bare.clientTls.trustedCaFile, 'ca.crt');
    assert.equal(bare.peerTls.autoTls, true);
    const explicit = parse(['--client-cert-auth=false', '--auto-tls=true']);
    assert.equal(explicit.clientTls.clientCertAuth, false);
    assert.equal(explicit.clientTls.autoTls, true);
    assert.throws(() => parse(['--auto-tls=maybe']), ConfigError);
    assert.equal(parse([]).clientTls.clientCertAuth, false);
  });

  test('durations of 0 disable (--grpc-keepalive-interval 0)', () => {
    assert.equal(configFromOptions({ grpcKeepaliveInterval: '0' }, {}).grpcKeepaliveIntervalMs, 0);
  });
});
