/**
 * APIC pushes, query answers and aci subscribe object messages → one
 * InfraEvent per object, with deterministic ids.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { toMessage } from '../../nodes/aci/output';
import { aciPushSample } from '../../nodes/events/decode/aci-samples';
import { refusesWithCode } from '../support/decode-fixtures';

describe('decoding ACI pushes and answers', () => {
  it('an ACI push → one event per object, ids from dn + modTs + status (+ what changed)', () => {
    const { format, events } = decode(
      { payload: JSON.stringify(aciPushSample) },
      { source: 'https://apic.example.com' },
    );
    assert.equal(format, 'aci');
    assert.equal(events.length, 2);
    const [bd, fault] = events;
    assert.equal(bd!.type, 'com.cisco.aci.fvBD.modified');
    assert.match(bd!.id, /^modified:uni\/tn-prod\/BD-web@2026-11-22T13:40:01\.123\+00:00#[0-9a-f]{8}$/);
    assert.equal(fault!.id, 'created:uni/tn-prod/BD-web/fault-F0467@2026-11-22T13:40:02.000+00:00');
    assert.equal(bd!.subject, 'uni/tn-prod/BD-web');
    assert.equal(bd!.summary, 'fvBD uni/tn-prod/BD-web modified (descr front end)');
    assert.equal(bd!.time, '2026-11-22T13:40:01.123+00:00');
    assert.equal(bd!.aci?.className, 'fvBD');
    assert.equal(
      fault!.summary,
      'major fault F0467 raised on uni/tn-prod/BD-web: Configuration failed for EPG web',
    );
    assert.equal(fault!.source, 'https://apic.example.com');
  });

  it('an ACI query answer → snapshot events', () => {
    const answer = {
      totalCount: '1',
      imdata: [
        {
          fvTenant: {
            attributes: {
              dn: 'uni/tn-prod',
              name: 'prod',
              modTs: '2026-01-01T00:00:00.000+00:00',
              status: '',
            },
          },
        },
      ],
    };
    const [e] = decode({ payload: answer }).events;
    assert.equal(e!.type, 'com.cisco.aci.fvTenant.snapshot');
  });

  it('two modifications of one object in the same millisecond get different ids; the same one the same id', () => {
    const mod = (attrs: Record<string, string>) => ({
      fvBD: {
        attributes: {
          dn: 'uni/tn-a/BD-1',
          status: 'modified',
          modTs: '2026-01-01T00:00:00.000+00:00',
          ...attrs,
        },
      },
    });
    const [a, b, c] = decode({
      payload: { imdata: [mod({ arpFlood: 'yes' }), mod({ descr: 'x' }), mod({ arpFlood: 'yes' })] },
    }).events;
    assert.notEqual(a!.id, b!.id);
    assert.equal(a!.id, c!.id);
  });

  it('fault modifications and deletions name the fault code from the dn', () => {
    const dn = 'uni/tn-prod/BD-web/fault-F1527';
    const [modified, deleted] = decode({
      payload: {
        imdata: [
          {
            faultInst: {
              attributes: { dn, status: 'modified', modTs: '2026-01-01T00:00:00.000+00:00', lc: 'retaining' },
            },
          },
          { faultInst: { attributes: { dn, status: 'deleted', modTs: '2026-01-01T00:01:00.000+00:00' } } },
        ],
      },
    }).events;
    assert.equal(modified!.summary, 'fault F1527 retaining on uni/tn-prod/BD-web');
    assert.equal(deleted!.summary, 'fault F1527 deleted on uni/tn-prod/BD-web');
  });

  it('an aci subscribe object message gives the same event as its Output "event"', () => {
    const change = {
      className: 'fvBD',
      dn: 'uni/tn-a/BD-1',
      status: 'modified',
      attributes: { dn: 'uni/tn-a/BD-1', modTs: '2026-01-01T00:00:00.000+00:00', arpFlood: 'yes' },
      reason: 'push' as const,
      subscriptionIds: ['1'],
      entries: ['fvBD'],
      apic: 'https://127.0.0.1:8444',
    };
    const viaObject = decode(
      { payload: toMessage(change, 'object', 'x').payload },
      { source: 'https://apic' },
    ).events[0]!;
    const viaEvent = toMessage(change, 'event', 'https://apic').payload;
    assert.deepEqual(viaObject, viaEvent);
  });

  describe('refuses bad input with a code and a short excerpt', () => {
    refusesWithCode([
      [
        'an ACI error answer',
        { payload: { imdata: [{ error: { attributes: { code: '403', text: 'Token was invalid' } } }] } },
        {},
        'DECODE_WRONG_SHAPE',
      ],
      [
        'an ACI object without dn',
        { payload: { imdata: [{ fvBD: { attributes: { name: 'x' } } }] } },
        {},
        'DECODE_WRONG_SHAPE',
      ],
    ]);
  });
});
