/**
 * A setting written `${NAME}` whose variable is not set where Node-RED runs (an example imported without its
 * environment): Node-RED leaves the text, and the node says which variable to set instead of "not a URL".
 */
import assert from 'node:assert/strict';
import { parseHosts } from '../../nodes/aci/addresses';
import { unsetVariable } from '../../nodes/common/guards';
import { Sink } from '../../nodes/events/delivery/sink';
import { VcdSession } from '../../nodes/vcd/session';

const names = (code: string, variable: string) => (err: { code?: string; message: string }) =>
  err.code === code && err.message.includes(`The environment variable ${variable} is not set`);

describe('settings that name an environment variable that is not set', () => {
  it('reads the name from a whole ${NAME} only', () => {
    assert.equal(unsetVariable('${VCD_URL}'), 'VCD_URL');
    assert.equal(unsetVariable(' ${APIC_HOSTS} '), 'APIC_HOSTS');
    for (const value of [
      'https://vcd.example.com',
      'https://${HOST}',
      '${A}${B}',
      '${}x',
      '$VCD_URL',
      7,
      undefined,
    ]) {
      assert.equal(unsetVariable(value), undefined, String(value));
    }
  });

  it('vcd login names VCD_URL or VCD_ORG', () => {
    const login = { authType: 'password' as const, username: 'u', password: 'p' };
    assert.throws(
      () => VcdSession.validate({ ...login, url: '${VCD_URL}', org: 'System' }),
      names('VCD_CONFIG_INVALID', 'VCD_URL'),
    );
    assert.throws(
      () => VcdSession.validate({ ...login, url: 'https://vcd.example.com', org: '${VCD_ORG}' }),
      names('VCD_CONFIG_INVALID', 'VCD_ORG'),
    );
  });

  it('aci controller names APIC_HOSTS', () => {
    assert.throws(() => parseHosts('${APIC_HOSTS}'), names('APIC_CONFIG_INVALID', 'APIC_HOSTS'));
  });

  it('the cloudevent sink names SINK_URL', () => {
    assert.throws(() => new Sink({ url: '${SINK_URL}' }), names('CE_CONFIG_INVALID', 'SINK_URL'));
  });
});
