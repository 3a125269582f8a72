/**
 * A refused APIC login needs a person, and trying often only risks the APIC's lockout policy: aci subscribe
 * waits 5 to 10 minutes before its next try, aci request refuses its calls for 30 to 60 s without a login.
 * Both bounds: sooner hammers the APIC, later leaves a fixed password unused for longer than promised.
 */
import assert from 'node:assert/strict';
import { ApicRest } from '../../../nodes/aci/rest-client';
import type { CodedError } from '../../../nodes/common/errors';
import { waitFor } from '../../support/wait';
import { useApicHarness } from './harness';

const WRONG = 'Wr0ng-pass!';

describe('APIC: how long a refused login is left alone', function () {
  const apic = useApicHarness();

  it('aci subscribe tries again after 5 to 10 minutes, and says when', async () => {
    await apic.startSim();
    const { subscriber } = apic.watch('fvBD', {}, apic.cluster({ password: WRONG }), {
      backoff: { initialMs: 100, maxMs: 100 },
    });
    const said: string[] = [];
    subscriber.on('debug', (text: string) => said.push(text));
    const line = await waitFor(() => said.find((t) => /Trying again in/.test(t)), 'the wait announced');
    const seconds = Number(/Trying again in (\d+) s/.exec(line)?.[1]);
    assert.ok(seconds >= 300 && seconds <= 600, line);
    assert.doesNotMatch(line, new RegExp(WRONG));
  });

  describe('aci request', () => {
    const realNow = Date.now;
    let offset = 0;
    beforeEach(() => {
      offset = 0;
      Date.now = () => realNow.call(Date) + offset;
    });
    afterEach(() => {
      Date.now = realNow;
    });

    it('answers calls with the refusal, without a login, for 30 to 60 s; then logs in again', async () => {
      const sim = await apic.startSim();
      const rest = new ApicRest(apic.cluster({ password: WRONG }));
      const refused = (err: CodedError) => err.code === 'APIC_AUTH_FAILED' && !err.message.includes(WRONG);
      await assert.rejects(rest.call('GET', '/api/class/fvTenant.json'), refused);
      assert.equal(sim.stats.failedLogins, 1);
      offset = 29_500;
      await assert.rejects(rest.call('GET', '/api/class/fvTenant.json'), refused);
      assert.equal(sim.stats.failedLogins, 1, 'no login within 30 s');
      offset = 60_500;
      sim.directory.users.find((u) => u.name === 'admin' && !u.domain)!.password = WRONG;
      const answer = await rest.call('GET', '/api/class/fvTenant.json');
      assert.equal(sim.stats.failedLogins, 1);
      assert.ok(answer.imdata.length > 0, 'logged in again after a minute, with the password that now works');
      await rest.close();
    });
  });
});
