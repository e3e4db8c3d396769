export { LocalFileStore } from './local-store.js'
export { FileSweeper, sweepOrphanFiles, SWEEP_GRACE_MS, type SweepResult } from './sweep.js'
