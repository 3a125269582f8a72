/** Prometheus Alertmanager webhooks (the format `alertmanager`), one event per alert. */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { alertmanagerFormat } from '../../nodes/events/decode/alertmanager';
import { refusesWithCode } from '../support/decode-fixtures';

const [firing, resolved] = alertmanagerFormat.samples.map((s) => s.input.payload) as [
  Record<string, unknown> & { alerts: Record<string, unknown>[] },
  Record<string, unknown> & { alerts: Record<string, unknown>[] },
];

describe('decoding Prometheus Alertmanager webhooks', () => {
  it('makes one event per alert: its type, start, site, instance and a one-line summary', () => {
    const { format, events } = decode({ payload: JSON.stringify(firing) });
    assert.equal(format, 'alertmanager');
    assert.equal(events.length, 1);
    const [event] = events;
    assert.deepEqual(
      {
        id: event?.id,
        type: event?.type,
        time: event?.time,
        source: event?.source,
        subject: event?.subject,
        summary: event?.summary,
        origin: event?.origin,
      },
      {
        id: '5d8a0e4c3b2f1a90:firing:2026-11-22T13:40:01.52847561Z',
        type: 'io.prometheus.alertmanager.alert.firing',
        time: '2026-11-22T13:40:01.52847561Z',
        source: 'http://alertmanager.example.com:9093',
        subject: 'leaf-101:161',
        summary: 'LeafDown firing on leaf-101:161: Leaf 101 does not answer SNMP',
        origin: 'alertmanager',
      },
    );
    assert.equal(event?.alertmanager?.labels.severity, 'critical');
    assert.equal(event?.alertmanager?.annotations.description, 'No answer for 5 minutes.\nCheck power.');
    assert.equal(event?.alertmanager?.receiver, 'datacenter-events');
    assert.equal(event?.timeSource, undefined);
  });

  it('a resolved alert happened when it ended; its id differs from the firing one', () => {
    const [event] = decode({ payload: resolved }).events;
    assert.equal(event?.type, 'io.prometheus.alertmanager.alert.resolved');
    assert.equal(event?.time, '2026-11-22T14:52:31.5+01:00');
    assert.notEqual(event?.id, decode({ payload: firing }).events[0]?.id);
  });

  it('without a fingerprint, the same labels in any order give the same id, other labels another', () => {
    const alert = resolved.alerts[0] as { labels: Record<string, string> };
    const reordered = Object.fromEntries(Object.entries(alert.labels).reverse());
    const idOf = (labels: Record<string, string>) =>
      decode({ payload: { ...resolved, alerts: [{ ...alert, labels }] } }).events[0]?.id;
    assert.equal(idOf(reordered), idOf(alert.labels));
    assert.match(idOf(alert.labels) ?? '', /^[0-9a-f]{16}:resolved:/);
    assert.notEqual(idOf({ ...alert.labels, instance: 'leaf-102:161' }), idOf(alert.labels));
  });

  it('a firing alert sent again (repeat interval) is the same event', () => {
    const again = { ...firing, alerts: [...firing.alerts, ...firing.alerts] };
    const [first, second] = decode({ payload: again }).events;
    assert.equal(first?.id, second?.id);
  });

  it('its external URL wins over Source; Source names an Alertmanager that sends none', () => {
    assert.equal(
      decode({ payload: firing }, { source: 'https://other' }).events[0]?.source,
      firing.externalURL,
    );
    assert.equal(decode({ payload: resolved }, { source: 'https://am' }).events[0]?.source, 'https://am');
    assert.equal(decode({ payload: resolved }).events[0]?.source, 'urn:prometheus:alertmanager');
  });

  it('an alert without a time is marked as timed at its receipt', () => {
    const { startsAt: _startsAt, ...untimed } = firing.alerts[0] as Record<string, unknown>;
    const [event] = decode({ payload: { ...firing, alerts: [untimed] } }).events;
    assert.equal(event?.timeSource, 'receipt');
  });

  describe('refuses bad input with a code and a short excerpt', () => {
    const alert = firing.alerts[0] as Record<string, unknown>;
    refusesWithCode([
      [
        'an alert without labels',
        { payload: { ...firing, alerts: [{ ...alert, labels: undefined }] } },
        {},
        'DECODE_WRONG_SHAPE',
      ],
      [
        'a status neither firing nor resolved',
        { payload: { ...firing, status: 'pending', alerts: [{ ...alert, status: 'pending' }] } },
        {},
        'DECODE_WRONG_SHAPE',
      ],
      [
        'no alerts when told the format',
        { payload: { receiver: 'x' } },
        { format: 'alertmanager' },
        'DECODE_WRONG_SHAPE',
      ],
    ]);
  });
});
