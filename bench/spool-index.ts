/**
 * spool-index: what the disk spool keeps in memory per spooled event. The
 * segment log alone (no Node-RED, no delivery): N events written while none is
 * delivered (a sink that is down), then the folder opened again, as a restart
 * does. Live heap after a full collection, against before the log was opened,
 * per event, in the contender's text (the RSS column stays empty: the heap is
 * what grows with events). Before the second audit the log kept
 * a Map entry and a location object per event: 86 bytes each, and a Map cannot
 * hold 2^24 entries.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toStructured, fromPayload } from '../nodes/events/cloudevent-model';
import { SegmentLog } from '../nodes/events/spool/segment-log';
import { liveHeap } from '../test/support/heap';
import { type ResultRow, printTable } from './results';

const BATCH = 1000;

function row(contender: string, events: number, ms: number, cpuMs: number, heapBytes: number): ResultRow {
  const perEvent = heapBytes / events;
  return {
    benchmark: 'spool-index',
    contender: `${contender} (${perEvent.toFixed(2)} bytes of heap per event)`,
    events,
    eventsPerSec: (events / ms) * 1000,
    cpuMsPer1k: (cpuMs / events) * 1000,
    p50Ms: null,
    p99Ms: null,
    rssGrowthMiB: null,
    boundBy: 'this process (fsync per batch of 1000)',
  };
}

/** What `work` gives, with its wall and CPU time. */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

export async function spoolIndex(events: number): Promise<ResultRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-spool-index-'));
  // One event as cloudevent emit spools it: its JSON format and the meta it keeps.
  const ce = fromPayload(
    { vm: 'web-01', org: 'acme', status: 'succeeded' },
    { type: 'com.example.vm.create', source: 'https://vcd.example.com', id: 'e-1' },
  );
  const payload = Buffer.from(`{"ce":${toStructured(ce)},"meta":{"topic":"com.example.vm.create"}}`);
  const options = { limitBytes: 64 * 1024 * 1024 * 1024 };
  // The open log, dropped between the runs so that only one is measured.
  const held: { log?: SegmentLog } = {};
  try {
    const before = liveHeap();
    const write = await timed(async () => {
      const log = (held.log = await SegmentLog.open(dir, options));
      for (let i = 0; i < events; i += BATCH)
        await Promise.all(Array.from({ length: Math.min(BATCH, events - i) }, () => log.append(payload)));
    });
    const written = liveHeap() - before;
    await held.log?.close();
    held.log = undefined;
    const reopen = await timed(() => SegmentLog.open(dir, options));
    held.log = reopen.value;
    const reopened = liveHeap() - before;
    if (reopen.value.count !== events) throw new Error(`${reopen.value.count} of ${events} events read back`);
    return [
      row(`segment log: ${events} events written`, events, write.ms, write.cpuMs, written),
      row('segment log: the same folder opened again (a restart)', events, reopen.ms, reopen.cpuMs, reopened),
    ];
  } finally {
    await held.log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// node dist/bench/spool-index.js [events]: this benchmark alone.
if (require.main === module) {
  const events = Number(process.argv[2] ?? 1_000_000);
  spoolIndex(events).then(
    (rows) => printTable('spool-index', rows),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
