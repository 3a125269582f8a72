/**
 * What every VCD notification format shares, whatever carried it (message bus,
 * JSON, AMQP XML, audit trail): its facts, the dotted event type and the
 * one-line summary.
 */
import { oneLine } from './errors';

/** Who did what to which VCD object. */
export interface VcdEventFacts {
  org?: string;
  user?: string;
  entity?: string;
  entityType?: string;
  entityName?: string;
  operationSuccess?: boolean;
  taskName?: string;
}

declare module '../../common/infra-event' {
  interface EventFacts {
    /** Every VCD format's events. */
    vcd?: VcdEventFacts;
  }
}

const bare = (urn: string | undefined) => urn?.slice(urn.lastIndexOf(':') + 1);

/** com/vmware/vcloud/event/vm/create → com.vmware.vcloud.event.vm.create */
export function dottedType(type: string): string {
  return type.replace(/\//g, '.');
}

const PAST: Record<string, string> = {
  create: 'created',
  delete: 'deleted',
  modify: 'modified',
  deploy: 'deployed',
  undeploy: 'undeployed',
  poweron: 'powered on',
  poweroff: 'powered off',
  suspend: 'suspended',
  resume: 'resumed',
  reboot: 'rebooted',
  reset: 'reset',
  login: 'logged in',
  logout: 'logged out',
  import: 'imported',
  upload: 'uploaded',
  start: 'started',
  complete: 'completed',
  fail: 'failed',
  abort: 'aborted',
};

/**
 * One human line: "vm web-01 created by acmeadmin in acme: succeeded",
 * "acmeadmin logged in to acme: succeeded". `action` is the type's last part.
 */
export function vcdSummary(facts: VcdEventFacts, action: string): string {
  const verb = PAST[action] ?? action;
  const user = facts.user ?? 'unknown user';
  const org = facts.org ?? 'unknown org';
  const result = facts.operationSuccess === false ? 'failed' : 'succeeded';
  return oneLine(
    facts.entityType && facts.entityType !== 'session'
      ? `${facts.entityType} ${facts.entityName ?? bare(facts.entity)} ${verb} by ${user} in ${org}: ${result}`
      : `${user} ${verb} ${verb.endsWith(' in') ? 'to' : 'in'} ${org}: ${result}`,
  );
}
