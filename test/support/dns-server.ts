import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

/** What the test DNS server knows about one name. */
export interface DnsRecords {
  mx?: Array<{ preference: number; exchange: string }>;
  a?: string[];
  aaaa?: string[];
}

export interface DnsServer {
  /** For DNS_SERVERS: `127.0.0.1:<port>`. */
  server: string;
  /** Names (lower case, no trailing dot) and their records; tests change it while it runs. */
  zone: Record<string, DnsRecords>;
  /** Questions asked so far, as `TYPE name`. */
  queries: string[];
  close(): Promise<void>;
}

/**
 * A tiny authoritative DNS server on loopback (UDP) for MX delivery tests:
 * answers MX, A and AAAA from `zone`, NOERROR with no answers for a known
 * name without that type (ENODATA), NXDOMAIN for an unknown name.
 */
export async function startDnsServer(zone: Record<string, DnsRecords>): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  const server: DnsServer = {
    server: '',
    zone,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (message, remote) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (!question) return;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    queries.push(`${question.type} ${name}`);
    const records = server.zone[name];
    const answers: dnsPacket.Answer[] = [];
    if (records && question.type === 'MX') {
      for (const mx of records.mx ?? []) answers.push({ type: 'MX', name: question.name, ttl: 60, data: { preference: mx.preference, exchange: mx.exchange } });
    }
    if (records && question.type === 'A') for (const a of records.a ?? []) answers.push({ type: 'A', name: question.name, ttl: 60, data: a });
    if (records && question.type === 'AAAA') for (const a of records.aaaa ?? []) answers.push({ type: 'AAAA', name: question.name, ttl: 60, data: a });
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (records ? 0 : 3 /* NXDOMAIN */),
      questions: [question],
      answers,
    });
    socket.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  server.server = `127.0.0.1:${socket.address().port}`;
  return server;
}
