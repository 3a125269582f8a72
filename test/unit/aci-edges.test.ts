import assert from 'node:assert/strict';
import { parseHosts } from '../../nodes/aci/addresses';
import { sameState } from '../../nodes/aci/object-facts';
import { endsConnection } from '../../nodes/aci/subscriber/failures';
import { CodedError, NetCodes } from '../../nodes/common/errors';
import { toMessage } from '../../nodes/aci/output';

describe('ACI addresses, stamps and messages at their edges', () => {
  it('asks for an address when none is set, and names an unset variable as the APIC address', () => {
    for (const none of [undefined, null, '']) {
      assert.throws(() => parseHosts(none as unknown as string), {
        code: 'APIC_CONFIG_INVALID',
        message: 'Give at least one APIC address.',
      });
    }
    delete process.env.DCE_TEST_UNSET_APIC;
    assert.throws(() => parseHosts('${DCE_TEST_UNSET_APIC}'), {
      code: 'APIC_CONFIG_INVALID',
      message:
        'The environment variable DCE_TEST_UNSET_APIC is not set (the APIC address is "${DCE_TEST_UNSET_APIC}").',
    });
  });

  it('ends the connection when the APIC is away at network level, not for an error of one request', () => {
    for (const code of [...Object.values(NetCodes), 'APIC_UNREACHABLE']) {
      assert.equal(endsConnection(new CodedError(code, 'away')), true, code);
    }
    for (const code of ['APIC_HTTP_ERROR', 'APIC_THROTTLED', 'APIC_ENTRY_INVALID']) {
      assert.equal(endsConnection(new CodedError(code, 'refused', { status: 400 })), false, code);
    }
  });

  it('tells two stamps apart when either has a key the other lacks', () => {
    const kept = { modTs: '2026-03-04T10:00:00.000+01:00' };
    const read = { modTs: '2026-03-04T10:00:00.000+01:00', lc: 'raised' };
    assert.equal(sameState(kept, read), false);
    assert.equal(sameState(read, kept), false);
    assert.equal(sameState(kept, { ...kept }), true);
  });

  const change = {
    className: 'fvBD',
    dn: 'uni/tn-a/BD-1',
    status: 'modified',
    attributes: { dn: 'uni/tn-a/BD-1', modTs: '2026-01-01T00:00:00.000+00:00' },
    reason: 'resync' as const,
    subscriptionIds: ['7', '9'],
    entries: ['fvBD', 'uni/tn-a?query-target=subtree'],
    apic: 'https://apic2',
  };
  const via = {
    reason: 'resync',
    subscriptionIds: ['7', '9'],
    entries: change.entries,
    apic: 'https://apic2',
  };

  it('says how a change came, in the object and beside the event', () => {
    const children = [{ fvRsCtx: { attributes: { tnFvCtxName: 'vrf' } } }];
    const object = toMessage({ ...change, children }, 'object', 'https://apic').payload as Record<
      string,
      unknown
    >;
    assert.deepEqual(object, {
      className: 'fvBD',
      dn: 'uni/tn-a/BD-1',
      status: 'modified',
      attributes: change.attributes,
      children,
      ...via,
    });
    assert.equal('children' in (toMessage(change, 'object', 'x').payload as object), false);
    assert.deepEqual(toMessage(change, 'event', 'https://apic').aci, via);
  });
});
