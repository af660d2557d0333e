export { Snapshotter, snapFileName } from './snapshotter';
