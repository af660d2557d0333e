import { EtcdError, Errors, GrpcCode } from '../errors';
import { ConfChangeType } from '../consensus/types';
import type { Answer, ClusterPort, MemberInfo, RequestContext } from '../api/member-port';
import type { Member } from './member';
import { computeMemberId } from './membership';
import { checkAddVoter, checkRemove } from './reconfig-check';

const learnerNotReady = (): EtcdError =>
  new EtcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader');
const notALearner = (): EtcdError =>
  new EtcdError(GrpcCode.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member');

function validPeerUrls(urls: string[]): boolean {
  if (urls.length === 0) return false;
  return urls.every((text) => {
    try {
      const url = new URL(text);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.port !== '' && url.pathname === '/';
    } catch {
      return false;
    }
  });
}

/**
 * Membership changes go through Raft one at a time as ConfChange entries carrying the
 * member record; MemberList answers from the applied membership (header without revision).
 */
export class ClusterService implements ClusterPort {
  constructor(
    private readonly member: Member,
    private readonly clusterToken: string,
    private readonly clockMs: () => number,
  ) {}

  private header() {
    return { ...this.member.header(), revision: 0n };
  }

  async memberList(_ctx: RequestContext): Promise<Answer<MemberInfo[]>> {
    return { header: this.header(), result: this.member.membership.list() };
  }

  async memberAdd(peerUrls: string[], isLearner: boolean, ctx: RequestContext): Promise<Answer<{ member: MemberInfo; members: MemberInfo[] }>> {
    if (!validPeerUrls(peerUrls)) throw Errors.badMemberUrls();
    const taken = new Set(this.member.membership.list().flatMap((m) => m.peerUrls));
    if (peerUrls.some((u) => taken.has(u))) throw Errors.peerUrlExists();
    // etcd mixes the time in, so re-adding the same URLs later gets a new id.
    const id = computeMemberId(peerUrls, `${this.clusterToken}${Math.floor(this.clockMs() / 1000)}`);
    if (this.member.membership.get(id) !== undefined) throw Errors.memberIdExists();
    if (!isLearner) checkAddVoter(this.member.reconfigView());
    const added: MemberInfo = { id, name: '', peerUrls: [...peerUrls], clientUrls: [], isLearner };
    const type = isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode;
    const members = await this.member.changeMembership(type, added, ctx);
    return { header: this.header(), result: { member: added, members } };
  }

  async memberRemove(id: bigint, ctx: RequestContext): Promise<Answer<MemberInfo[]>> {
    const known = this.member.membership.get(id);
    if (known === undefined) throw Errors.memberNotFound();
    checkRemove(this.member.reconfigView(), id);
    const members = await this.member.changeMembership(ConfChangeType.RemoveNode, known, ctx);
    return { header: this.header(), result: members };
  }

  async memberUpdate(id: bigint, peerUrls: string[], ctx: RequestContext): Promise<Answer<MemberInfo[]>> {
    const known = this.member.membership.get(id);
    if (known === undefined) throw Errors.memberNotFound();
    if (!validPeerUrls(peerUrls)) throw Errors.badMemberUrls();
    const taken = new Set(this.member.membership.list().filter((m) => m.id !== id).flatMap((m) => m.peerUrls));
    if (peerUrls.some((u) => taken.has(u))) throw Errors.peerUrlExists();
    const members = await this.member.changeMembership(ConfChangeType.UpdateNode, { ...known, name: '', clientUrls: [], peerUrls }, ctx);
    return { header: this.header(), result: members };
  }

  async memberPromote(id: bigint, ctx: RequestContext): Promise<Answer<MemberInfo[]>> {
    const known = this.member.membership.get(id);
    if (known === undefined) throw Errors.memberNotFound();
    if (!known.isLearner) throw notALearner();
    if (this.member.isLeader() && !this.member.learnerIsReady(id)) throw learnerNotReady();
    const members = await this.member.changeMembership(ConfChangeType.AddNode, known, ctx);
    return { header: this.header(), result: members };
  }
}
