import { Resolver } from 'node:dns/promises';
import { Unroutable } from './smtp-outcome.ts';

/** One host to try, in order, with the addresses it resolved to. */
export interface MxDestination {
  host: string;
  preference: number;
  addresses: string[];
}

export interface MxResolver {
  /**
   * The hosts that accept mail for `domain`, most preferred first (RFC 5321 §5.1):
   * its MX records, or the domain itself (its A/AAAA records) when it has none.
   * Throws Unroutable when the domain does not exist or publishes a null MX (RFC 7505);
   * other DNS failures (timeouts, SERVFAIL) are thrown as they are: they heal.
   */
  destinations(domain: string): Promise<MxDestination[]>;
}

const MAX_HOSTS = 10;

/** node:dns with its own resolver, so DNS_SERVERS (and tests' loopback DNS server) decide, not /etc/resolv.conf. */
export function createMxResolver(options: { servers?: string[] | undefined; timeoutMs: number }): MxResolver {
  const resolver = new Resolver({ timeout: Math.min(options.timeoutMs, 10_000), tries: 2 });
  if (options.servers && options.servers.length > 0) resolver.setServers(options.servers);

  const addressesOf = async (host: string): Promise<string[]> => {
    const [v4, v6] = await Promise.all([orNone(resolver.resolve4(host)), orNone(resolver.resolve6(host))]);
    return [...v4, ...v6];
  };

  return {
    async destinations(domain) {
      let records: Array<{ exchange: string; priority: number }>;
      try {
        records = await resolver.resolveMx(domain);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOTFOUND') throw new Unroutable(`the domain ${domain} does not exist (DNS NXDOMAIN)`);
        if (code !== 'ENODATA') throw error;
        records = [];
      }
      if (records.length === 0) {
        // RFC 5321 §5.1: no MX records, the domain itself is the implicit MX.
        const addresses = await addressesOf(domain);
        if (addresses.length === 0) throw new Unroutable(`the domain ${domain} has no MX, A or AAAA records`);
        return [{ host: domain, preference: 0, addresses }];
      }
      if (records.some((r) => r.exchange === '' || r.exchange === '.')) {
        throw new Unroutable(`the domain ${domain} accepts no mail (null MX, RFC 7505)`);
      }
      const ordered = shuffle(records)
        .sort((a, b) => a.priority - b.priority)
        .slice(0, MAX_HOSTS);
      const resolved = await Promise.all(
        ordered.map(async (r) => ({ host: r.exchange.replace(/\.$/, '').toLowerCase(), preference: r.priority, addresses: await addressesOf(r.exchange) })),
      );
      const usable = resolved.filter((d) => d.addresses.length > 0);
      if (usable.length === 0) {
        throw Object.assign(new Error(`no MX host of ${domain} has an address (${ordered.map((r) => r.exchange).join(', ')})`), { code: 'ENOADDRESS' });
      }
      return usable;
    },
  };
}

/** Hosts of equal preference are tried in random order (RFC 5321 §5.1): shuffle, then a stable sort. */
function shuffle<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

async function orNone(lookup: Promise<string[]>): Promise<string[]> {
  try {
    return await lookup;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
    throw error;
  }
}
