/**
 * A whole pipeline for the fault and high-availability tests: the simulators,
 * and real Node-RED processes with this package, each running the flow
 * VCD + ACI (+ HTTP in) → event decode → cloudevent emit → the sink, on a user
 * directory of its own that outlives a kill.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_APIC_PASSWORD, ApicSimulator } from '../../sim/apic';
import { REPO_ROOT, prepareUserDir, startNodeRed, type FlowNode } from '../../sim/nodered';
import { SinkSimulator } from '../../sim/sink';
import { VcdSimulator } from '../../sim/vcd';
import { DEFAULT_PASSWORD } from '../../sim/vcd/directory';
import { freePort } from '../support/nodered-process';
import { waitFor } from '../support/wait';

export interface Sims {
  vcd: VcdSimulator;
  apic: ApicSimulator;
  sink: SinkSimulator;
  stop(): Promise<void>;
}

export async function startSims(options: { seed?: number } = {}): Promise<Sims> {
  const vcd = await VcdSimulator.start({ seed: options.seed, tokenLifetimeSec: 3600 });
  const apic = await ApicSimulator.start({ seed: options.seed });
  const sink = await SinkSimulator.start({ log: false });
  return {
    vcd,
    apic,
    sink,
    stop: async () => {
      await Promise.all([vcd.stop(), apic.stop(), sink.stop()]);
    },
  };
}

/** Whether the built package has a property (the suites use what exists and say what they used). */
function editorHas(file: string, text: string): boolean {
  try {
    return fs.readFileSync(path.join(REPO_ROOT, 'dist', 'nodes', file), 'utf8').includes(text);
  } catch {
    return false;
  }
}

/** cloudevent emit can keep its queue on disk. */
export const HAS_DISK_SPOOL = editorHas('events/cloudevent-emit.html', 'spool:');
/** aci subscribe can report what changed while it was not running. */
export const HAS_ACI_CHANGES = editorHas('aci/aci-subscribe.html', 'value="changes"');

/** The package has an alert gate: the fault suite counts doubles after it too. */
export const HAS_ALERT_GATE = editorHas('alerts/alert-gate.html', "registerType('alert-gate'");

/** The debug nodes behind the alert gates: their log lines are `[debug:<name>] <event id>`. */
export const GATED = { vcd: 'gated vcd', aci: 'gated aci' } as const;

/** The ACI classes the pipelines watch. */
export const ACI_CLASSES = ['fvBD', 'fvAEPg'];

export interface FlowOptions {
  /** Path on the sink this instance delivers to (tells instances apart). */
  sinkPath: string;
}

/** A cloudevent emit to the sink, with the disk spool when the package has one. */
function emitNode(id: string, url: string, ca: string): FlowNode {
  return {
    id,
    type: 'cloudevent-emit',
    z: 'tab',
    url,
    mode: 'binary',
    batchSize: 10,
    lingerMs: 20,
    authType: 'none',
    ca,
    timeout: 5,
    retryBudget: 3600,
    queueLimit: 20_000,
    concurrency: 4,
    onFull: 'wait',
    ...(HAS_DISK_SPOOL ? { spool: 'disk', spoolLimit: 64 } : {}),
    wires: [[], []],
  };
}

function decodeNode(id: string, source: string, ...next: string[]): FlowNode {
  const settings = { format: 'auto', keepOriginal: false, errors: 'catch', maxSize: 16, outputs: 1 };
  return { id, type: 'event-decode', z: 'tab', source, ...settings, wires: [next] };
}

/**
 * An alert gate dropping doubles (no storms: the suite's changes of one object
 * are each an event to count), and a debug node that logs the id of each event
 * it lets through: the log outlives a SIGKILL, so the suite counts what left
 * the gate.
 */
function gatedNodes(id: string, name: string): FlowNode[] {
  if (!HAS_ALERT_GATE) return [];
  return [
    { id, type: 'alert-gate', z: 'tab', doubles: true, storms: false, version: 1, wires: [[`${id}-log`]] },
    {
      id: `${id}-log`,
      type: 'debug',
      z: 'tab',
      name,
      active: true,
      tosidebar: false,
      console: true,
      complete: 'payload.id',
      wires: [],
    },
  ];
}

/** The flow every instance runs; ids are fixed, so every instance has the same node ids. */
export function pipelineFlow(
  sims: Sims,
  options: FlowOptions,
): {
  flows: FlowNode[];
  credentials: Record<string, Record<string, string>>;
} {
  const ca = sims.vcd.cert ?? '';
  const sink = sims.sink.url + options.sinkPath;
  const flows: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'pipeline' },
    { id: 'vcd', type: 'vcd-login', url: sims.vcd.url, org: 'acme', authType: 'password', ca },
    { id: 'apic', type: 'aci-controller', hosts: sims.apic.urls.join(', '), authType: 'password', ca },
    {
      id: 'vcd-sub',
      type: 'vcd-subscribe',
      z: 'tab',
      login: 'vcd',
      topic: 'publish/{org}/+',
      output: 'envelope',
      catchUp: true,
      wires: [['vcd-decode']],
    },
    decodeNode('vcd-decode', sims.vcd.url, 'vcd-emit', ...(HAS_ALERT_GATE ? ['vcd-gate'] : [])),
    emitNode('vcd-emit', sink, ca),
    ...gatedNodes('vcd-gate', GATED.vcd),
    {
      id: 'aci-sub',
      type: 'aci-subscribe',
      z: 'tab',
      controller: 'apic',
      subscriptions: ACI_CLASSES.join('\n'),
      initial: HAS_ACI_CHANGES ? 'changes' : 'skip',
      output: 'object',
      wires: [['aci-decode']],
    },
    decodeNode(
      'aci-decode',
      sims.apic.urls[0] as string,
      'aci-emit',
      ...(HAS_ALERT_GATE ? ['aci-gate'] : []),
    ),
    emitNode('aci-emit', sink, ca),
    ...gatedNodes('aci-gate', GATED.aci),
    // Anything posted here (AMQP XML, CloudEvents) goes the same way.
    { id: 'in', type: 'http in', z: 'tab', url: '/in', method: 'post', wires: [['in-decode', 'in-ok']] },
    decodeNode('in-decode', sims.vcd.url, 'in-emit'),
    emitNode('in-emit', sink, ca),
    { id: 'in-ok', type: 'http response', z: 'tab', statusCode: '202', wires: [] },
    { id: 'catch-all', type: 'catch', z: 'tab', scope: null, wires: [['error-log']] },
    {
      id: 'error-log',
      type: 'debug',
      z: 'tab',
      tosidebar: false,
      console: true,
      complete: 'error',
      wires: [],
    },
  ];
  return {
    flows,
    credentials: {
      vcd: { username: 'acmeadmin', password: DEFAULT_PASSWORD },
      apic: { username: 'admin', password: DEFAULT_APIC_PASSWORD },
    },
  };
}

/** One Node-RED process on a user directory that survives kills and restarts. */
export class Instance {
  readonly dir: string;
  base = '';
  private red: ChildProcess | undefined;
  private output = '';
  /** Highest resident memory seen (bytes). */
  maxRss = 0;
  /** Exits nobody asked for. */
  crashes = 0;
  private stopping = false;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly flow: ReturnType<typeof pipelineFlow> & {
      /** Other packages of the repository's node_modules to install, e.g. node-red-node-email. */
      modules?: string[];
      env?: Record<string, string>;
    },
    /** A package tarball (npm pack) to install, instead of linking the repository. */
    private readonly tarball?: string,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `nr-${name}-`));
  }

  /** Everything the process printed, over all its runs. */
  log(): string {
    return this.output;
  }

  get running(): boolean {
    return !!this.red && this.red.exitCode === null && this.red.signalCode === null;
  }

  async start(): Promise<void> {
    if (!this.base) {
      // Installed as a user would; prepareUserDir then leaves it (it links the repository only when absent).
      if (this.tarball) {
        execFileSync(
          'npm',
          ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', this.dir, this.tarball],
          {
            stdio: 'ignore',
          },
        );
      }
      const port = await freePort();
      const { flows, credentials, modules } = this.flow;
      prepareUserDir(this.dir, { port, logLevel: 'info', flows, credentials, modules });
      this.base = `http://127.0.0.1:${port}`;
    }
    const from = this.output.length;
    const red = startNodeRed(this.dir, 'pipe', this.flow.env);
    this.red = red;
    this.stopping = false;
    red.once('exit', () => {
      if (!this.stopping) this.crashes++;
    });
    const add = (d: Buffer) => (this.output += d.toString());
    red.stdout!.on('data', add);
    red.stderr!.on('data', add);
    await waitFor(
      () => this.output.slice(from).includes('Started flows') || red.exitCode !== null,
      `${this.name} to start its flows`,
      60_000,
    );
    if (red.exitCode !== null) throw new Error(`${this.name} exited: ${this.output.slice(from)}`);
    clearInterval(this.sampler);
    this.sampler = setInterval(() => this.sample(), 500);
    this.sampler.unref();
  }

  /** A crash: SIGKILL, nothing runs after it. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGINT');
  }

  /** Deploys the running flows again (full), as the editor's Deploy button does. */
  async redeploy(): Promise<void> {
    const headers = { 'node-red-api-version': 'v2', 'content-type': 'application/json' };
    const current = (await (await fetch(`${this.base}/flows`, { headers })).json()) as {
      rev: string;
      flows: FlowNode[];
    };
    const answer = await fetch(`${this.base}/flows`, {
      method: 'POST',
      headers: { ...headers, 'node-red-deployment-type': 'full' },
      body: JSON.stringify({ rev: current.rev, flows: current.flows }),
    });
    if (!answer.ok) throw new Error(`redeploy answered ${answer.status}: ${await answer.text()}`);
  }

  async remove(): Promise<void> {
    if (this.running) await this.stop();
    clearInterval(this.sampler);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const red = this.red;
    if (!red || !this.running) return;
    clearInterval(this.sampler);
    this.stopping = true;
    const exited = new Promise((resolve) => red.once('exit', resolve));
    red.kill(signal);
    await exited;
  }

  private sample(): void {
    const pid = this.red?.pid;
    if (!pid || !this.running) return;
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb) this.maxRss = Math.max(this.maxRss, Number(kb) * 1024);
    } catch {
      // gone between the check and the read
    }
  }
}

/** Packs the built package (npm pack, without rebuilding) into `dir`; returns the tarball's path. */
export function packTarball(dir: string): string {
  const name = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop() as string;
  return path.join(dir, name);
}

/** Lines of a Node-RED log that mean a promise or an exception escaped. */
export function escapes(log: string): string[] {
  return log.split('\n').filter((l) => /unhandled ?(promise ?)?rejection|uncaught ?exception/i.test(l));
}
