/**
 * The ceiling of a pipeline benchmark, in a process of its own: the least code
 * that carries events from the source to the sink. No reconnects, no token or
 * subscription renewal, no queue limit, no retries: what our nodes add to
 * this is what the tables price. Prints {"ready": true} once subscribed.
 *
 *   node ceiling.js vcd <vcd url> <user> <sink url> <connections>
 *   node ceiling.js aci <apic url> <ca file> <class> <sink url> <connections>
 */
import fs from 'node:fs';
import mqtt from 'mqtt';
import { Agent, Pool, request } from 'undici';
import WebSocket from 'ws';
import { DEFAULT_APIC_PASSWORD } from '../sim/apic';
import { DEFAULT_PASSWORD } from '../sim/vcd/directory';

function poster(sinkUrl: string, connections: number) {
  const url = new URL(sinkUrl);
  const pool = new Pool(url.origin, { connections });
  return (headers: Record<string, string>, body: string) => {
    pool
      .request({ method: 'POST', path: url.pathname, headers, body })
      .then((res) => res.body.dump())
      .catch((err: unknown) => console.error('ceiling: POST failed', err));
  };
}

async function vcd(site: string, user: string, sinkUrl: string, connections: number): Promise<void> {
  const login = await request(`${site}/cloudapi/1.0.0/sessions`, {
    method: 'POST',
    headers: {
      accept: 'application/json;version=38.0',
      authorization: `Basic ${Buffer.from(`${user}@acme:${DEFAULT_PASSWORD}`).toString('base64')}`,
    },
  });
  const token = login.headers['x-vmware-vcloud-access-token'] as string;
  const session = (await login.body.json()) as { org: { id: string }; user: { id: string } };
  const id = (urn: string) => urn.split(':').pop() as string;
  const post = poster(sinkUrl, connections);
  const client = mqtt.connect(`${site.replace(/^http/, 'ws')}/messaging/mqtt`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    wsOptions: { headers: { authorization: `Bearer ${token}` } },
  });
  client.on('message', (_topic, payload) => {
    const envelope = JSON.parse(payload.toString('utf8')) as { payload: string };
    const e = JSON.parse(envelope.payload) as Record<string, string>;
    post(
      {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': e.eventId ?? '',
        'ce-type': `com.vmware.vcd.${(e.type ?? '').split('/').slice(-2).join('.')}`,
        'ce-source': site,
        'ce-time': encodeURIComponent(e.timestamp ?? ''),
        'ce-subject': e.entity ?? '',
      },
      JSON.stringify(e),
    );
  });
  await new Promise<void>((r) => client.once('connect', () => r()));
  await client.subscribeAsync(`publish/${id(session.org.id)}/${id(session.user.id)}`, { qos: 1 });
}

async function aci(
  apic: string,
  caFile: string,
  cls: string,
  sinkUrl: string,
  connections: number,
): Promise<void> {
  const ca = fs.readFileSync(caFile, 'utf8');
  const dispatcher = new Agent({ connect: { ca } });
  const login = await request(`${apic}/api/aaaLogin.json`, {
    method: 'POST',
    dispatcher,
    body: JSON.stringify({ aaaUser: { attributes: { name: 'admin', pwd: DEFAULT_APIC_PASSWORD } } }),
  });
  const body = (await login.body.json()) as { imdata: { aaaLogin: { attributes: { token: string } } }[] };
  const token = body.imdata[0]!.aaaLogin.attributes.token;
  const ws = new WebSocket(`${apic.replace(/^http/, 'ws')}/socket${token}`, { ca, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const post = poster(sinkUrl, connections);
  ws.on('message', (data: Buffer) => {
    const push = JSON.parse(data.toString('utf8')) as {
      imdata: Record<string, { attributes: Record<string, string> }>[];
    };
    for (const item of push.imdata) {
      const [className, mo] = Object.entries(item)[0] as [string, { attributes: Record<string, string> }];
      const a = mo.attributes;
      post(
        {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': `${a.dn}@${a.modTs}`,
          'ce-type': `com.cisco.aci.${className}.${a.status || 'modified'}`,
          'ce-source': apic,
          'ce-subject': a.dn ?? '',
        },
        JSON.stringify(a),
      );
    }
  });
  const sub = await request(`${apic}/api/class/${cls}.json?subscription=yes&refresh-timeout=600`, {
    dispatcher,
    headers: { cookie: `APIC-cookie=${token}` },
  });
  if (sub.statusCode !== 200) throw new Error(`subscribe: ${sub.statusCode}`);
  await sub.body.dump();
}

async function main(): Promise<void> {
  const [kind, ...args] = process.argv.slice(2) as string[];
  if (kind === 'vcd') await vcd(args[0]!, args[1]!, args[2]!, Number(args[3]));
  else await aci(args[0]!, args[1]!, args[2]!, args[3]!, Number(args[4]));
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
}

process.on('SIGTERM', () => process.exit(0));
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
