/**
 * Live heap, measured after a full collection: heapUsed alone counts garbage the
 * collector has not reached yet, which varies with the machine, not with the code.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

function collector(): () => void {
  if (!collect) {
    // --expose-gc set at run time makes gc() visible to contexts created from now on.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  return collect;
}

/** Bytes of heap still reachable after a full garbage collection. */
export function liveHeap(): number {
  collector()();
  return process.memoryUsage().heapUsed;
}
