export { callKind, countUnaryCalls, handledCounterInterceptor, type RpcHandledReporter } from './grpc-interceptor';
export { LockTimings } from './lock-timings';
export { NO_METRICS, type MemberMetrics } from './member-metrics';
export { GRPC_CODE_NAMES, MetricsRegistry } from './registry';

