/**
 * A second process for lock tests: opens the spool folder given as argument
 * (node dist/test/support/hold-spool.js <dir>), says "open" (or the error's
 * code) on stdout and holds it until killed.
 */
import { SegmentLog } from '../../nodes/events/spool/segment-log';

const dir = process.argv[2] as string;
SegmentLog.open(dir, { limitBytes: 1024 * 1024 }).then(
  () => {
    process.stdout.write('open\n');
    setInterval(() => undefined, 60_000);
  },
  (err: { code?: string }) => {
    process.stdout.write(`${err.code ?? 'failed'}\n`);
    process.exit(1);
  },
);
