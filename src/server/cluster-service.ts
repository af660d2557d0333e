import { EtcdError, GrpcCode } from '../errors';
import type { Answer, ClusterPort, MemberInfo, RequestContext } from '../api/member-port';
import type { Member } from './member';

const notYet = (): EtcdError =>
  new EtcdError(GrpcCode.UNIMPLEMENTED, 'latchkey: membership changes are not supported by this version yet');

/** MemberList answers from the applied membership; its header carries no revision, as etcd's. */
export class ClusterService implements ClusterPort {
  constructor(private readonly member: Member) {}

  async memberList(_ctx: RequestContext): Promise<Answer<MemberInfo[]>> {
    return { header: { ...this.member.header(), revision: 0n }, result: this.member.membership.list() };
  }

  async memberAdd(): Promise<Answer<{ member: MemberInfo; members: MemberInfo[] }>> {
    throw notYet();
  }

  async memberRemove(): Promise<Answer<MemberInfo[]>> {
    throw notYet();
  }

  async memberUpdate(): Promise<Answer<MemberInfo[]>> {
    throw notYet();
  }

  async memberPromote(): Promise<Answer<MemberInfo[]>> {
    throw notYet();
  }
}
