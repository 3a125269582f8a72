/**
 * A real Node-RED process, killed with SIGKILL while events wait in the spool
 * (the sink is down), started again on the same user directory: every event it
 * had taken arrives, once, in order.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeFiles } from '../../nodes/common/node-files';
import { type FlowNode, prepareUserDir, startNodeRed } from '../../sim/nodered';
import { SinkSimulator } from '../../sim/sink';
import { freePort } from '../support/nodered-process';
import { waitFor } from '../support/wait';

interface Process {
  red: ChildProcess;
  log(): string;
}

/** Starts Node-RED on `dir` and waits until its flows run. */
async function start(dir: string): Promise<Process> {
  const red = startNodeRed(dir, 'pipe');
  let output = '';
  red.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  red.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(() => output.includes('Started flows') || red.exitCode !== null, 'Node-RED to start', 30_000);
  if (red.exitCode !== null) throw new Error(`Node-RED exited: ${output}`);
  return { red, log: () => output };
}

async function kill(p: Process | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!p || p.red.exitCode !== null || p.red.signalCode !== null) return;
  const exited = new Promise((resolve) => p.red.once('exit', resolve));
  p.red.kill(signal);
  await exited;
}

/** POST /emit → cloudevent emit (spool on disk) → sink; the answer comes once the event is taken (complete). */
function flow(sinkUrl: string): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'spool' },
    { id: 'in', type: 'http in', z: 'tab', url: '/emit', method: 'post', wires: [['emit']] },
    {
      id: 'emit',
      type: 'cloudevent-emit',
      z: 'tab',
      url: sinkUrl,
      mode: 'binary',
      ceType: 'com.example.crash',
      ceSource: '/crash-test',
      timeout: 2,
      retryBudget: 600,
      queueLimit: 10,
      concurrency: 1,
      onFull: 'wait',
      spool: 'disk',
      spoolLimit: 5,
      version: 1,
      wires: [[], []],
    },
    { id: 'taken', type: 'complete', z: 'tab', scope: ['emit'], uncaught: false, wires: [['answer']] },
    { id: 'answer', type: 'http response', z: 'tab', statusCode: '204', headers: {} },
  ];
}

describe('cloudevent emit spool in a real Node-RED: SIGKILL and restart', function () {
  this.timeout(90_000);
  let sink: SinkSimulator;
  let dir: string;
  let red: Process | undefined;

  before(async () => {
    sink = await SinkSimulator.start({ tls: false });
  });
  beforeEach(() => {
    sink.reset();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-crash-'));
  });
  afterEach(async () => {
    await kill(red, 'SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  after(() => sink.stop());

  /** POSTs event `i`; true once Node-RED answered that it took it. */
  const post = (port: number, i: number): Promise<boolean> =>
    fetch(`http://127.0.0.1:${port}/emit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ i }),
    }).then(
      (res) => res.status === 204,
      () => false,
    );
  const numbers = () => sink.received.map((r) => (r.event.data as { i: number }).i);

  it('delivers every event it had taken, exactly once and in order, after a kill -9 (and a torn tail)', async () => {
    const port = await freePort();
    prepareUserDir(dir, { port, flows: flow(`${sink.url}/events`), logLevel: 'info' });
    sink.setDown(true);
    red = await start(dir);
    const emitted: number[] = [];
    // Taken one after the other: each answer says the event is on disk.
    for (let i = 1; i <= 60; i++) {
      assert.ok(await post(port, i));
      emitted.push(i);
    }
    await kill(red, 'SIGKILL');

    // A crash in the middle of a write: half a record at the end of the newest segment.
    const folder = new NodeFiles(dir, 'spool').pathOf('emit', '.d');
    const newest = fs
      .readdirSync(folder)
      .filter((name) => name.endsWith('.seg'))
      .sort()
      .pop()!;
    fs.appendFileSync(path.join(folder, newest), Buffer.from([0, 0, 1, 0, 1, 2, 3, 4, 0x7b]));

    sink.setDown(false);
    red = await start(dir);
    for (let i = 61; i <= 65; i++) {
      assert.ok(await post(port, i));
      emitted.push(i);
    }
    await waitFor(
      () => sink.received.length >= emitted.length,
      `${emitted.length} events at the sink`,
      30_000,
    );
    assert.deepEqual(numbers(), emitted, 'every event once, the spooled ones first, in order');
    assert.equal(new Set(sink.received.map((r) => r.event.id)).size, emitted.length);
    const warnings = red.log().match(/The spool was damaged/g) ?? [];
    assert.equal(warnings.length, 1, red.log());
  });

  it('a kill in the middle of a stream of events loses none that it had answered', async () => {
    const port = await freePort();
    prepareUserDir(dir, { port, flows: flow(`${sink.url}/events`), logLevel: 'info' });
    sink.setDown(true);
    red = await start(dir);
    const answered = new Set<number>();
    // Ten writers post numbered events until Node-RED stops answering: the kill lands in the stream.
    let next = 1;
    let stopped = false;
    const writer = async () => {
      while (!stopped) {
        const i = next++;
        if (await post(port, i)) answered.add(i);
        else stopped = true;
      }
    };
    const writers = Array.from({ length: 10 }, writer);
    await waitFor(() => answered.size >= 100, '100 events taken');
    await kill(red, 'SIGKILL');
    await Promise.all(writers);
    sink.setDown(false);
    red = await start(dir);
    await waitFor(
      () => [...answered].every((i) => numbers().includes(i)),
      `the ${answered.size} taken events at the sink`,
      30_000,
    );
    assert.equal(new Set(numbers()).size, numbers().length, 'none twice');
    assert.ok(next - 1 > answered.size, 'the kill came in the middle of the stream');
  });
});
