/**
 * The input formats, in detection order: "Recognise it" takes the first whose
 * `detect` says yes, so a format whose inputs another's `detect` would also
 * take goes before it. Each format is a module of its own (see types.ts); the
 * editor lists them by their labels, in the order of the user's language.
 */
import { aciFormat } from './aci';
import { alertmanagerFormat } from './alertmanager';
import { cloudeventFormat } from './cloudevent';
import { vcdAmqpFormat } from './vcd-amqp';
import { vcdAuditFormat } from './vcd-audit';
import { vcdEnvelopeFormat } from './vcd-envelope';
import { vcdNotificationFormat } from './vcd-notification';

/** Every format, in detection order. */
export const DECODERS = [
  // A CloudEvent may carry anything as data, even an APIC document: it is read as what it says it is.
  cloudeventFormat,
  aciFormat,
  vcdEnvelopeFormat,
  vcdNotificationFormat,
  vcdAuditFormat,
  alertmanagerFormat,
  // Any text that is still text: last.
  vcdAmqpFormat,
] as const;

export type FormatName = (typeof DECODERS)[number]['name'];
