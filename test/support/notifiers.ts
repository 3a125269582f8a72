/**
 * Stand-ins for what notifies people: Webex's messages API (HTTP, records each
 * post) and a mail relay (Debian's python3-aiosmtpd, test/support/smtp_server.py).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort } from './nodered-process';
import { SYSTEM_PYTHON } from './peers';
import { waitFor } from './wait';

const RELAY = path.resolve(__dirname, '../../../test/support/smtp_server.py');

export class Notifiers {
  private output = '';

  private constructor(
    /** The markdown of each Webex post, in order. */
    readonly posts: string[],
    private readonly webex: http.Server,
    private readonly relay: ChildProcess,
    readonly smtpPort: number,
  ) {}

  static async start(): Promise<Notifiers> {
    const posts: string[] = [];
    const webex = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        posts.push(String((JSON.parse(Buffer.concat(chunks).toString()) as { markdown?: string }).markdown));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"msg"}');
      });
    });
    await new Promise<void>((r) => webex.listen(0, '127.0.0.1', () => r()));
    const smtpPort = await freePort();
    const relay = spawn(SYSTEM_PYTHON, [RELAY, String(smtpPort)]);
    const n = new Notifiers(posts, webex, relay, smtpPort);
    relay.stdout!.on('data', (d: Buffer) => (n.output += d.toString()));
    relay.stderr!.on('data', (d: Buffer) => (n.output += d.toString()));
    await waitFor(() => n.output.includes('LISTENING'), 'the mail relay to listen', 20_000);
    return n;
  }

  get webexUrl(): string {
    return `http://127.0.0.1:${(this.webex.address() as AddressInfo).port}/v1/messages`;
  }

  /** The messages the relay got, quoted-printable bodies decoded (long lines come folded). */
  mails(): string[] {
    return this.output
      .split('END MESSAGE')
      .slice(0, -1)
      .map((m) =>
        m
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      );
  }

  stop(): void {
    this.relay.kill();
    this.webex.close();
  }
}
