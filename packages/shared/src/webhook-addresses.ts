// Where a webhook may be sent: http(s) URLs whose host resolves only to public addresses (no loopback, private,
// link-local or otherwise special ranges, IPv4 or IPv6), unless WEBHOOK_ALLOW_PRIVATE. Checked at registration and
// again, on the address actually connected to, at every delivery.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const special = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  special.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  special.addSubnet(network, prefix, 'ipv6');
}
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) need no rule of their own: BlockList checks them against the IPv4
// rules (and a rule for ::ffff:0:0/96 would match every IPv4 address).

/** True for an address a webhook must not reach unless WEBHOOK_ALLOW_PRIVATE: not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return special.check(address, 'ipv4');
  if (family === 6) return special.check(address, 'ipv6');
  return true;
}

export class WebhookUrlError extends Error {
  override name = 'WebhookUrlError';
}

/** The host of a URL as DNS and `isIP` read it (an IPv6 literal without its brackets). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Parses a webhook URL: http or https, no credentials. Throws WebhookUrlError. */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookUrlError(`'${raw}' is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookUrlError(`Webhook URLs must be http or https, not ${url.protocol.slice(0, -1)}.`);
  }
  if (url.username || url.password) throw new WebhookUrlError('Webhook URLs may not carry credentials.');
  return url;
}

/** Every address the URL's host resolves to must be public. Throws WebhookUrlError. */
export async function refusePrivateHost(url: URL, resolve = lookupAll): Promise<void> {
  const host = hostOf(url);
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.length === 0) throw new WebhookUrlError(`The host '${host}' does not resolve.`);
  const refused = addresses.find(isPrivateAddress);
  if (refused) {
    throw new WebhookUrlError(
      `The host '${host}' resolves to ${refused}, a private, loopback or link-local address; webhooks go only to public addresses.`,
    );
  }
}

async function lookupAll(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch {
    throw new WebhookUrlError(`The host '${host}' does not resolve.`);
  }
}
