export { createMirror, type Mirror, type MirrorOptions, type MirrorStatus } from './mirror';
