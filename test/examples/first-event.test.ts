/**
 * The README's "Your first event", followed as a new user does: the examples
 * it names, imported as shipped, set up only through what its steps name (the
 * environment variables it lists, the credentials typed into the shared
 * configuration nodes), run in a real Node-RED against the simulators; the
 * first VCD event and ACI change reach the debug output.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApicSimulator } from '../../sim/apic';
import { REPO_ROOT, exampleCredentials, exampleEnv, exampleFlow, type FlowNode } from '../../sim/nodered';
import { VcdSimulator } from '../../sim/vcd';
import { runNodeRed, type RunningNodeRed } from '../support/nodered-process';
import { waitFor } from '../support/wait';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The text of a README section, from its heading to the next heading of the same or a higher level. */
function section(heading: string): string {
  const start = readme.indexOf(`${heading}\n`);
  assert.ok(start >= 0, `the README has "${heading}"`);
  const level = heading.indexOf(' ');
  const rest = readme.slice(start + heading.length);
  const next = rest.search(new RegExp(`\\n#{1,${level}} `));
  return next < 0 ? rest : rest.slice(0, next);
}

/** The example a step imports (written in bold) and the environment variables the steps name. */
function steps(heading: string): { example: string; variables: string[] } {
  const text = section(heading);
  const examples = [...text.matchAll(/\*\*([a-z0-9-]+)\*\*/g)]
    .map((m) => m[1]!)
    .filter((name) => fs.existsSync(path.join(REPO_ROOT, 'examples', `${name}.json`)));
  assert.equal(examples.length, 1, `"${heading}" names one example to import`);
  const variables = [...new Set([...text.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!))];
  return { example: examples[0]!, variables };
}

/** The `${NAME}` settings of a flow's nodes: what a user must set for it to reach their systems. */
function variablesRead(flow: FlowNode[]): string[] {
  const found = new Set<string>();
  for (const node of flow) {
    for (const value of Object.values(node)) {
      const m = typeof value === 'string' ? /^\$\{([A-Z0-9_]+)\}$/.exec(value) : null;
      if (m) found.add(m[1]!);
    }
  }
  return [...found].sort();
}

/** Debug nodes print to the console instead of the editor sidebar, so the test can read them. */
const toConsole = (flow: FlowNode[]) =>
  flow.map((n) => (n.type === 'debug' ? { ...n, active: true, tosidebar: false, console: true } : n));

describe('README: your first event (the steps as written, in a real Node-RED)', function () {
  this.timeout(60_000);
  let red: RunningNodeRed | undefined;
  let vcd: VcdSimulator | undefined;
  let apic: ApicSimulator | undefined;

  afterEach(async () => {
    await red?.stop();
    await vcd?.stop();
    await apic?.stop();
    red = vcd = apic = undefined;
  });

  it('from your VCD: the example it names, with the variables it names, shows the next VCD event', async () => {
    const { example, variables } = steps('### From your VCD');
    const flow = exampleFlow(`${example}.json`);
    assert.deepEqual(variablesRead(flow), ['VCD_ORG', 'VCD_URL']);
    for (const name of variablesRead(flow)) assert.ok(variables.includes(name), `the steps name ${name}`);

    vcd = await VcdSimulator.start({ ratePerSec: 0 });
    red = await runNodeRed({
      flows: toConsole(flow),
      // Step 2: URL and organization from the environment, user and password typed into the login.
      credentials: exampleCredentials(),
      env: exampleEnv({ vcd: vcd.url, cert: vcd.cert }),
    });
    await waitFor(() => vcd!.subscriptions.length === 1, 'the subscription', 20_000);
    const published = vcd.publishEvent();
    await waitFor(
      () => red!.log().includes(published.event.eventId),
      'the event in the debug output',
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${red!.log()}`);
    });
    assert.doesNotMatch(red.log(), /\[error\]/);
  });

  it('from your APIC: the example it names, with the variable it names, shows the next change', async () => {
    const { example, variables } = steps('### From your APIC');
    const flow = exampleFlow(`${example}.json`);
    assert.deepEqual(variablesRead(flow), ['APIC_HOSTS']);
    assert.ok(variables.includes('APIC_HOSTS'), 'the steps name APIC_HOSTS');

    apic = await ApicSimulator.start({ ratePerSec: 0 });
    red = await runNodeRed({
      flows: toConsole(flow),
      credentials: exampleCredentials(),
      env: exampleEnv({ apicHosts: apic.hosts, cert: apic.cert }),
    });
    const entries = flow
      .filter((n) => n.type === 'aci-subscribe')
      .flatMap((n) => String(n.subscriptions).split('\n').filter(Boolean));
    assert.ok(entries.includes('fvBD'), 'the example watches bridge domains');
    await waitFor(() => apic!.liveSubscriptions.length === entries.length, 'every entry subscribed', 20_000);
    // Step 3: a bridge domain's description changed.
    apic.modify('uni/tn-prod/BD-bd-web', { descr: 'my first ACI event' });
    await waitFor(
      () => red!.log().includes('my first ACI event'),
      'the change in the debug output',
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${red!.log()}`);
    });
    assert.doesNotMatch(red.log(), /\[error\]/);
  });
});
