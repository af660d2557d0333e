export { handledCounterInterceptor, type RpcHandledReporter } from './grpc-interceptor';
export { LockTimings } from './lock-timings';
export { NO_METRICS, type MemberMetrics } from './member-metrics';
export { GRPC_CODE_NAMES, MetricsRegistry } from './registry';

/**
 * etcd's --listen-metrics-urls. Carried beside MemberConfig (whose file is owned elsewhere)
 * until MemberConfig gets the field.
 */
export interface MetricsListenConfig {
  listenMetricsUrls?: string[];
}
