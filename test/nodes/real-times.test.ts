/**
 * Times as a real VCD writes them, through Node-RED: vcd subscribe (events,
 * "Missed events") → cloudevent emit → a strict CloudEvents sink, against a
 * VCD whose audit trail writes `+0000` and whose clock runs an hour ahead of
 * ours. Recovered events reach the sink with RFC 3339 times, across a
 * reconnect and a restart; an event dated in the future is delivered and does
 * not stop recovery.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cloudeventEmit from '../../nodes/events/cloudevent-emit';
import vcdLogin from '../../nodes/vcd/vcd-login';
import vcdSubscribe from '../../nodes/vcd/vcd-subscribe';
import { SinkSimulator } from '../../sim/sink';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { VcdSimulator } from '../../sim/vcd';
import { helper } from '../support/red';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js') as (RED: unknown) => void;

type Msg = Record<string, unknown>;

/** RFC 3339 as the strictest receivers take it: upper-case T and Z, a colon in the offset. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

describe('times as a real VCD writes them, from vcd subscribe to a strict sink', function () {
  this.timeout(60_000);
  let sim: VcdSimulator;
  let sink: SinkSimulator;
  let userDir: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    // VCD's clock runs an hour ahead of ours; its audit trail writes +0000.
    sim = await VcdSimulator.start({ clockSkewSec: 3600 });
    sink = await SinkSimulator.start({ tls: false });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-times-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    await sim.stop();
    await sink.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  const flow = (): Msg[] => [
    { id: 'tab', type: 'tab' },
    {
      id: 'login',
      type: 'vcd-login',
      url: sim.url,
      org: 'acme',
      authType: 'password',
      tlsInsecure: false,
      ca: sim.cert,
    },
    {
      id: 'sub',
      type: 'vcd-subscribe',
      z: 'tab',
      login: 'login',
      topic: 'publish/{org}/+',
      qos: '1',
      output: 'event',
      catchUp: true,
      wires: [['emit']],
    },
    {
      id: 'emit',
      type: 'cloudevent-emit',
      z: 'tab',
      url: `${sink.url}/events`,
      mode: 'binary',
      wires: [[], []],
    },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];

  async function load(): Promise<Msg[]> {
    await helper.load([vcdLogin, vcdSubscribe, cloudeventEmit, catchNode], flow(), {
      login: { username: 'acmeadmin', password: DEFAULT_PASSWORD },
    });
    const caught: Msg[] = [];
    helper.getNode('caught').on('input', (m: Msg) => caught.push(m));
    await waitFor(
      () => sim.subscriptions.length === 1 && sim.stats.auditReads >= 1,
      'subscribed, mark taken',
    );
    return caught;
  }

  const publish = (n: number, timestamp?: string) =>
    Array.from(
      { length: n },
      () =>
        sim.publishEvent({
          actor: 'acmeuser@acme',
          envelopeType: 'EVENT',
          ...(timestamp && { event: { timestamp } }),
        }).event,
    );
  const atSink = (id: string) => sink.received.find((r) => r.event.id === id)?.event;

  /** Drops the message bus for a moment and publishes `n` events meanwhile; resolves once subscribed again. */
  async function publishWhileAway(n: number) {
    const upgrades = sim.stats.upgrades;
    sim.restartBroker(1500);
    await waitFor(() => sim.subscriptions.length === 0, 'the connection dropped');
    const missed = publish(n);
    await waitFor(
      () => sim.stats.upgrades > upgrades && sim.subscriptions.length === 1,
      'subscribed again',
      15_000,
    );
    return missed;
  }

  /** Every published event is at the sink, once at least, with the event's instant as an RFC 3339 time. */
  async function allAtSink(events: { eventId: string; timestamp: string }[], caught: Msg[]): Promise<void> {
    await waitFor(
      () => events.every((e) => atSink(e.eventId)),
      `${events.length} events at the sink`,
      30_000,
    ).catch((err: Error) => {
      const at = events.filter((e) => atSink(e.eventId)).length;
      throw new Error(
        `${err.message}: ${at} of ${events.length}; caught ${JSON.stringify(caught.map((m) => (m.error as { message?: string }).message))}`,
      );
    });
    for (const e of events) {
      const time = String(atSink(e.eventId)!.time);
      assert.match(time, RFC3339);
      assert.equal(Date.parse(time), Date.parse(e.timestamp), 'the same instant, as VCD wrote it');
    }
  }

  it('events missed during a reconnect reach the sink with RFC 3339 times', async () => {
    const caught = await load();
    await allAtSink(await publishWhileAway(10), caught);
    assert.deepEqual(caught, []);
  });

  it('events published while Node-RED was stopped reach the sink after the restart', async () => {
    const caught = await load();
    const live = publish(1);
    await allAtSink(live, caught);
    await helper.unload();
    const down = publish(10);
    const again = await load();
    await allAtSink(down, again);
    assert.deepEqual([...caught, ...again], []);
  });

  it('an event dated in 2099 is delivered, and neither moves the mark nor stops recovery, across a restart', async () => {
    const caught = await load();
    const [future] = publish(1, '2099-01-01T00:00:00.000+00:00');
    await allAtSink([future!], caught);
    await allAtSink(await publishWhileAway(3), caught);
    await helper.unload();
    const down = publish(3);
    const again = await load();
    await allAtSink(down, again);
    assert.deepEqual([...caught, ...again], []);
  });
});
