/**
 * A mail sink for the demo: an SMTP server on loopback that takes every
 * message (no login, no TLS), prints one line per mail and keeps the last
 * ones, so the e-mail examples run without a mail server.
 */
import net from 'node:net';

export interface SinkMail {
  from: string;
  to: string[];
  subject: string;
  /** The whole message as received (headers and body). */
  text: string;
}

const MAX_MESSAGE = 1024 * 1024;

const ANSWERS: Record<string, string> = {
  EHLO: '250-mail-sink\r\n250 SIZE 1048576',
  HELO: '250 OK',
  RSET: '250 OK',
  NOOP: '250 OK',
  MAIL: '250 OK',
  RCPT: '250 OK',
  DATA: '354 end with <CRLF>.<CRLF>',
};
const KEEP = 100;

export class MailSink {
  readonly received: SinkMail[] = [];
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(options: { host?: string; port?: number; log?: boolean } = {}): Promise<MailSink> {
    const sink: { value?: MailSink } = {};
    const server = net.createServer((socket) => sink.value?.session(socket, options.log ?? false));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    sink.value = new MailSink(server, (server.address() as net.AddressInfo).port);
    return sink.value;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** One SMTP conversation: HELO/EHLO, MAIL, RCPT, DATA, QUIT. */
  private session(socket: net.Socket, log: boolean): void {
    let buffer = '';
    let data: string | undefined;
    let mail: { from: string; to: string[] } = { from: '', to: [] };
    const reply = (line: string) => socket.write(`${line}\r\n`);
    socket.on('error', () => socket.destroy());
    reply('220 mail-sink ESMTP simulator');
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (data !== undefined) {
          const end = buffer.indexOf('\r\n.\r\n');
          if (end === -1) {
            if (data.length + buffer.length > MAX_MESSAGE) socket.end('552 too large\r\n');
            return;
          }
          this.keep({ ...mail, text: (data + buffer.slice(0, end)).replace(/\r\n\.\./g, '\r\n.') }, log);
          buffer = buffer.slice(end + 5);
          data = undefined;
          mail = { from: '', to: [] };
          reply('250 OK: queued');
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol === -1) {
          if (buffer.length > 65_536) socket.end('500 line too long\r\n');
          return;
        }
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
          return;
        }
        if (verb === 'DATA') data = '';
        if (verb === 'MAIL') mail.from = /<([^>]*)>/.exec(line)?.[1] ?? '';
        if (verb === 'RCPT') mail.to.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
        reply(ANSWERS[verb] ?? '502 not implemented');
      }
    });
  }

  private keep(mail: Omit<SinkMail, 'subject'>, log: boolean): void {
    const subject = /^Subject: (.*)$/im.exec(mail.text)?.[1] ?? '';
    this.received.push({ ...mail, subject });
    if (this.received.length > KEEP) this.received.shift();
    if (log) console.log(`[mail sink] to ${mail.to.join(', ')}: ${subject}`);
  }
}
