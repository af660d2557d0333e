import type { ResponseHeader, WatchPort } from '../api/member-port';
import type { WatchHub } from '../storage/mvcc/watch';
import type { WatchResponseSink, WatchStream } from '../storage/mvcc/watch/types';
import type { Member } from './member';

export class WatchService implements WatchPort {
  constructor(
    private readonly member: Member,
    private readonly hub: WatchHub,
  ) {}

  openStream(sink: WatchResponseSink): WatchStream {
    return this.hub.openStream(sink);
  }

  headerFor(revision: bigint): ResponseHeader {
    return this.member.header(revision);
  }
}
