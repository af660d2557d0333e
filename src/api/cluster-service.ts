import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../log';
import { memberAddFromWire, memberAddResponseToWire, memberIdFromWire, membersResponseToWire, urlsFromWire } from './codec/cluster-wire';
import type { MemberPort } from './member-port';
import { unaryHandler } from './unary-handler';

export function clusterService(member: MemberPort, logger: Logger): UntypedServiceImplementation {
  return {
    MemberList: unaryHandler('Cluster/MemberList', logger, async (_w, ctx) => {
      const answer = await member.cluster.memberList(ctx);
      return membersResponseToWire(answer.header, answer.result);
    }),
    MemberAdd: unaryHandler('Cluster/MemberAdd', logger, async (w, ctx) => {
      const req = memberAddFromWire(w);
      const answer = await member.cluster.memberAdd(req.peerUrls, req.isLearner, ctx);
      return memberAddResponseToWire(answer.header, answer.result.member, answer.result.members);
    }),
    MemberRemove: unaryHandler('Cluster/MemberRemove', logger, async (w, ctx) => {
      const answer = await member.cluster.memberRemove(memberIdFromWire(w), ctx);
      return membersResponseToWire(answer.header, answer.result);
    }),
    MemberUpdate: unaryHandler('Cluster/MemberUpdate', logger, async (w, ctx) => {
      const answer = await member.cluster.memberUpdate(memberIdFromWire(w), urlsFromWire(w.peerURLs), ctx);
      return membersResponseToWire(answer.header, answer.result);
    }),
    MemberPromote: unaryHandler('Cluster/MemberPromote', logger, async (w, ctx) => {
      const answer = await member.cluster.memberPromote(memberIdFromWire(w), ctx);
      return membersResponseToWire(answer.header, answer.result);
    }),
  };
}
