import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WATCHERS_PER_STREAM, tooManyWatchersReason } from '../../src/api/watch-service';
import { EtcdClient } from '../support/etcd-client';
import { startLatchkey, stopAll } from '../support/processes';

after(() => stopAll());

const BATCH = 500;

test('one watch stream holds at most MAX_WATCHERS_PER_STREAM watchers; the next create is refused, the rest goes on', { timeout: 60_000 }, async () => {
  const server = await startLatchkey();
  const client = new EtcdClient(server.endpoint);
  const stream = client.watchStream();
  try {
    // Created in batches (each answered before the next), one key per watcher.
    for (let sent = 0; sent < MAX_WATCHERS_PER_STREAM; sent += BATCH) {
      for (let i = sent; i < sent + BATCH; i++) stream.send({ create_request: { key: Buffer.from(`w/${i}`) } });
      for (let i = sent; i < sent + BATCH; i++) {
        const created = await stream.next();
        assert.equal(created.created, true);
        assert.notEqual(created.canceled, true, `watcher ${i} refused: ${created.cancel_reason}`);
      }
    }
    stream.send({ create_request: { key: Buffer.from('w/one-too-many') } });
    const refused = await stream.next();
    assert.equal(refused.created, true);
    assert.equal(refused.canceled, true);
    assert.equal(refused.watch_id, '-1');
    assert.equal(refused.cancel_reason, tooManyWatchersReason(MAX_WATCHERS_PER_STREAM));

    // The existing watchers still report events on the same stream.
    await client.put({ key: Buffer.from('w/0'), value: Buffer.from('v') });
    const event = await stream.next();
    assert.equal(event.watch_id ?? '0', '0');
    assert.equal(Buffer.from(event.events[0].kv.key).toString(), 'w/0');

    // Canceling one makes room for one more.
    stream.send({ cancel_request: { watch_id: 1 } });
    const canceled = await stream.next();
    assert.equal(canceled.canceled, true);
    stream.send({ create_request: { key: Buffer.from('w/after-cancel') } });
    const createdAgain = await stream.next();
    assert.equal(createdAgain.created, true);
    assert.notEqual(createdAgain.canceled, true);
  } finally {
    stream.close();
    client.close();
    await server.stop();
  }
});
