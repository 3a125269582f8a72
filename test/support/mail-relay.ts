/**
 * A mail relay on loopback for example tests: Debian's python3-aiosmtpd run by
 * test/support/smtp_server.py, and the messages it printed, decoded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './nodered-process';
import { SYSTEM_PYTHON } from './peers';
import { waitFor } from './wait';

const SERVER = path.resolve(__dirname, '../../../test/support/smtp_server.py');

/** Quoted-printable soft line breaks and escapes undone: long lines arrive folded. */
function unfold(text: string): string {
  return text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export class MailRelay {
  private printed = '';
  private constructor(
    readonly port: number,
    private readonly process: ChildProcess,
  ) {
    const take = (d: Buffer) => (this.printed += d.toString());
    process.stdout!.on('data', take);
    process.stderr!.on('data', take);
  }

  /** Starts a relay that takes mail from anyone, and waits until it listens. */
  static async start(): Promise<MailRelay> {
    const port = await freePort();
    const relay = new MailRelay(port, spawn(SYSTEM_PYTHON, [SERVER, String(port)]));
    await waitFor(() => relay.printed.includes('LISTENING'), 'the mail relay to listen', 20_000);
    return relay;
  }

  /** Every message received so far (envelope lines, headers, body). */
  messages(): string[] {
    return this.printed.split('END MESSAGE').slice(0, -1).map(unfold);
  }

  stop(): void {
    this.process.kill();
  }
}
