export { WatchHub, type WatchHubOptions } from './watch-hub';
export { HubWatchStream } from './watch-stream';
export { WatchKeyRange } from './key-range';
export * from './types';
