/**
 * One input of many events (an ACI answer of thousands of objects) through
 * event decode in a real Node-RED runtime: the runtime copies every message of
 * a send after the first, so what the messages share decides the cost. The
 * reproductions of the second audit: 2,000 objects with "Keep the input" took
 * 13 s and 805 MB, 12,000 ran the heap out.
 */
import assert from 'node:assert/strict';
import eventDecode from '../../nodes/events/event-decode';
import { liveHeap } from '../support/heap';
import { helper } from '../support/red';
import { watchTurns } from '../support/time-bound';
import { waitFor } from '../support/wait';

type Msg = Record<string, unknown> & { parts?: { id: string; index: number; count: number } };

/** An ACI answer of `n` objects of about 67 bytes each, as in the reproductions. */
function aciAnswer(n: number) {
  const imdata = [];
  for (let i = 0; i < n; i++)
    imdata.push({ fvTenant: { attributes: { dn: `uni/tn-t${i}`, status: 'created' } } });
  return { totalCount: String(n), imdata };
}

/** The heap the help promises at most while an input's events go on: 40 times the input. */
const HEAP_PER_INPUT_BYTE = 40;

/** The test helper keeps every call of every node; a real runtime keeps none. */
const forgetCalls = () =>
  (helper as unknown as { _sandbox: { resetHistory(): void } })._sandbox.resetHistory();

describe('event decode: one input, many events', function () {
  this.timeout(60_000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  async function load(keepOriginal: boolean, onMessage: (m: Msg, count: number) => void) {
    await helper.load(
      [eventDecode],
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'n',
          z: 'tab',
          type: 'event-decode',
          format: 'auto',
          keepOriginal,
          errors: 'catch',
          wires: [['out']],
        },
        { id: 'out', type: 'helper', z: 'tab' },
      ],
    );
    let count = 0;
    helper.getNode('out').on('input', (m: Msg) => onMessage(m, ++count));
    return () => count;
  }

  it('keeps the input on the first message of a sequence only', async () => {
    const got: Msg[] = [];
    await load(true, (m) => got.push(m));
    const input = aciAnswer(3);
    helper.getNode('n').receive({ payload: input });
    await waitFor(() => got.length === 3, 'three events');
    assert.equal(got[0]!.original, input);
    assert.deepEqual(
      got.map((m) => 'original' in m),
      [true, false, false],
    );
  });

  for (const n of [2000, 12_000]) {
    it(`${n} objects with Keep the input: every event, in order, within the heap the help states`, async () => {
      const input = aciAnswer(n);
      const bytes = JSON.stringify(input).length;
      let midway = 0;
      let inOrder = true;
      let heapBefore = 0;
      const received = await load(true, (m, count) => {
        inOrder &&= m.parts?.index === count - 1;
        if (count === n / 2) {
          forgetCalls();
          midway = liveHeap() - heapBefore;
        }
      });
      heapBefore = liveHeap();
      helper.getNode('n').receive({ payload: input });
      await waitFor(() => received() === n, `${n} events`, 30_000);
      forgetCalls();
      assert.ok(inOrder, 'the events arrive in the order of the input');
      const bound = HEAP_PER_INPUT_BYTE * bytes;
      assert.ok(
        midway < bound,
        `${Math.round(midway / 1048576)} MB midway for ${Math.round(bytes / 1024)} KB`,
      );
    });
  }

  it('holds the event loop for no more than 100 ms of CPU per turn with 12,000 events', async () => {
    const input = aciAnswer(12_000);
    const received = await load(true, () => undefined);
    // Warm up: the first decode of a process compiles the decoders.
    helper.getNode('n').receive({ payload: aciAnswer(2000) });
    await waitFor(() => received() === 2000, 'the warm-up events');
    forgetCalls();
    const turns = watchTurns();
    let longest = 0;
    try {
      helper.getNode('n').receive({ payload: input });
      await waitFor(() => received() === 14_000, '12,000 events', 30_000);
    } finally {
      longest = turns.stop();
      forgetCalls();
    }
    // CPU time of the JavaScript thread between two ticks of a 5 ms timer: other processes do not count.
    assert.ok(longest < 100, `longest turn ${Math.round(longest)} ms of CPU`);
  });

  it('stops sending when the flow stops in the middle of a sequence', async () => {
    let stopping: Promise<void> | undefined;
    await load(false, (_m, count) => {
      if (count === 1) stopping = helper.unload() as Promise<void>;
    });
    const node = helper.getNode('n');
    let sends = 0;
    node.on('call:send', () => sends++);
    node.receive({ payload: aciAnswer(6000) });
    await waitFor(() => stopping !== undefined, 'the flow to stop');
    await stopping;
    const atStop = sends;
    await new Promise((resolve) => setTimeout(resolve, 200));
    forgetCalls();
    // 12 slices of 500: the runtime would copy what is left for nodes that are gone.
    assert.ok(atStop < 12, `${atStop} slices before the stop`);
    assert.equal(sends, atStop, 'none after');
  });

  it("sends an input's events before those of the inputs after it", async () => {
    const order: string[] = [];
    const received = await load(false, (m) => order.push(String(m.parts?.id)));
    const node = helper.getNode('n');
    node.receive({ _msgid: 'big', payload: aciAnswer(3000) });
    node.receive({ _msgid: 'small', payload: aciAnswer(1) });
    await waitFor(() => received() === 3001, 'every event');
    forgetCalls();
    assert.equal(order.indexOf('small'), 3000);
  });
});
