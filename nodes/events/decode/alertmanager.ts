/**
 * The input format `alertmanager`: what Prometheus Alertmanager POSTs to a
 * webhook receiver (webhook_config, payload version 4): a group of alerts
 * sharing their routing labels, each firing or resolved. One event per alert.
 */
import { createHash } from 'node:crypto';
import { type InfraEvent, timedAt } from '../../common/infra-event';
import { readTime, receiptTime } from '../../common/times';
import { DecodeCodes, decodeError, oneLine } from './errors';
import { type DecoderContext, decoder, sourceOf } from './types';

/** What an alert says beyond the fields every event has. */
export interface AlertmanagerFacts {
  receiver?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fingerprint: string;
  generatorURL?: string;
}

declare module '../../common/infra-event' {
  interface EventFacts {
    alertmanager?: AlertmanagerFacts;
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The string entries of a label or annotation set (Alertmanager writes only strings). */
function strings(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * Alertmanager's own fingerprint of the alert's labels; payloads before
 * version 0.20 have none, so then a digest of the labels in name order stands
 * in (the same labels give the same one).
 */
function fingerprintOf(alert: Json, labels: Record<string, string>): string {
  const own = text(alert.fingerprint);
  if (own) return own;
  const sorted = Object.keys(labels)
    .sort()
    .map((name) => [name, labels[name]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** One alert of the group → InfraEvent. */
function alertEvent(alert: unknown, group: Json, ctx: DecoderContext): InfraEvent {
  if (!isObject(alert) || !isObject(alert.labels)) {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'An Alertmanager alert needs its labels', alert);
  }
  const status = text(alert.status) ?? text(group.status);
  if (status !== 'firing' && status !== 'resolved') {
    throw decodeError(DecodeCodes.WRONG_SHAPE, 'An Alertmanager alert is "firing" or "resolved"', alert);
  }
  const labels = strings(alert.labels);
  const annotations = strings(alert.annotations);
  const startsAt = readTime(alert.startsAt);
  // A resolved alert happened when it ended; a firing one when it started (its endsAt is year 1 or a guess).
  const time = status === 'resolved' ? (readTime(alert.endsAt) ?? startsAt) : startsAt;
  const fingerprint = fingerprintOf(alert, labels);
  const name = labels.alertname ?? 'alert';
  const where = labels.instance ? ` on ${labels.instance}` : '';
  const what = annotations.summary ?? annotations.description;
  return timedAt(
    {
      // A firing alert sent again (repeat_interval) is the same event; its resolution is another.
      id: `${fingerprint}:${status}:${text(alert.startsAt) ?? ''}`,
      source: sourceOf(text(group.externalURL), ctx, 'urn:prometheus:alertmanager'),
      type: `io.prometheus.alertmanager.alert.${status}`,
      time: time ?? receiptTime(),
      subject: labels.instance ?? name,
      summary: oneLine(`${name} ${status}${where}${what ? `: ${what}` : ''}`),
      origin: 'alertmanager',
      alertmanager: {
        receiver: text(group.receiver),
        labels,
        annotations,
        fingerprint,
        generatorURL: text(alert.generatorURL),
      },
      data: alert,
    },
    time,
  );
}

/** A webhook payload: its alerts, its group key and the payload version. */
function isAlertGroup(value: unknown): value is Json & { alerts: unknown[] } {
  return (
    isObject(value) &&
    Array.isArray(value.alerts) &&
    typeof value.groupKey === 'string' &&
    typeof value.version === 'string'
  );
}

const group = (status: string, alerts: Json[]) => ({
  receiver: 'datacenter-events',
  status,
  alerts,
  groupLabels: { alertname: 'LeafDown' },
  commonLabels: { alertname: 'LeafDown', job: 'snmp', severity: 'critical' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.example.com:9093',
  version: '4',
  groupKey: '{}:{alertname="LeafDown"}',
  truncatedAlerts: 0,
});

const leafDown = {
  status: 'firing',
  labels: { alertname: 'LeafDown', instance: 'leaf-101:161', job: 'snmp', severity: 'critical' },
  annotations: {
    summary: 'Leaf 101 does not answer SNMP',
    description: 'No answer for 5 minutes.\nCheck power.',
  },
  startsAt: '2026-11-22T13:40:01.52847561Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus.example.com:9090/graph?g0.expr=up%7Bjob%3D%22snmp%22%7D+%3D%3D+0&g0.tab=1',
  fingerprint: '5d8a0e4c3b2f1a90',
};

export const alertmanagerFormat = decoder({
  name: 'alertmanager',
  description: 'Alertmanager webhook',
  detect: isAlertGroup,
  decode(value, _input, ctx) {
    if (!isAlertGroup(value)) {
      throw decodeError(
        DecodeCodes.WRONG_SHAPE,
        'An Alertmanager webhook needs "alerts", "groupKey" and "version"',
        value,
      );
    }
    return { events: value.alerts.map((alert) => alertEvent(alert, value, ctx)) };
  },
  samples: [
    {
      name: 'Alertmanager webhook, an alert firing',
      input: { payload: group('firing', [leafDown]) },
      ownSource: 'http://alertmanager.example.com:9093',
    },
    {
      name: 'Alertmanager webhook (before 0.20: no fingerprint), resolved, no external URL',
      input: {
        payload: {
          ...group('resolved', [
            {
              status: 'resolved',
              labels: leafDown.labels,
              annotations: leafDown.annotations,
              startsAt: leafDown.startsAt,
              endsAt: '2026-11-22T14:52:31.5+01:00',
              generatorURL: leafDown.generatorURL,
            },
          ]),
          externalURL: '',
        },
      },
    },
  ],
});
