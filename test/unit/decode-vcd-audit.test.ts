/**
 * VCD audit-trail records and pages (GET /cloudapi/1.0.0/auditTrail) → the
 * same InfraEvents as the message-bus notifications of those events.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { vcdAuditRecordSample } from '../../nodes/events/decode/vcd-audit';
import { vcdNotificationSample } from '../../nodes/events/decode/vcd-notification';
import { refusesWithCode } from '../support/decode-fixtures';

describe('decoding VCD audit-trail records', () => {
  it('an audit-trail record gives the same event as its message-bus notification', () => {
    const record = vcdAuditRecordSample;
    const page = {
      resultTotal: 2,
      pageCount: 1,
      page: 1,
      pageSize: 25,
      values: [record, { ...record, eventStatus: 'FAILURE', eventId: 'urn:vcloud:audit:x' }],
    };
    const live = decode({ payload: vcdNotificationSample }, { source: 'https://vcd.example.com' }).events[0]!;
    const one = decode({ payload: record }, { source: 'https://vcd.example.com' });
    assert.equal(one.format, 'vcd-audit');
    const e = one.events[0]!;
    for (const field of ['id', 'type', 'time', 'subject', 'summary', 'source'] as const) {
      assert.equal(e[field], live[field], field);
    }
    assert.deepEqual(e.vcd, live.vcd);
    const both = decode({ payload: JSON.stringify(page) });
    assert.equal(both.format, 'vcd-audit');
    assert.deepEqual(
      both.events.map((x) => [x.id, x.vcd?.operationSuccess]),
      [
        [vcdNotificationSample.eventId, true],
        ['x', false],
      ],
    );
  });

  describe('refuses bad input with a code and a short excerpt', () => {
    refusesWithCode([
      [
        'an audit page with a record that is not one',
        { payload: { pageCount: 1, values: [{ eventId: 'a' }] } },
        { format: 'vcd-audit' },
        'DECODE_WRONG_SHAPE',
      ],
    ]);
  });
});
