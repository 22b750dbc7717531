import { describe, expect, it } from 'vitest';
import {
  isPrivateAddress,
  parseWebhookUrl,
  refusePrivateHost,
  WebhookUrlError,
} from './webhook-addresses.js';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '2a00:1450:4001::200e'])(
    'accepts %s',
    (address) => {
      expect(isPrivateAddress(address)).toBe(false);
    },
  );
});

describe('parseWebhookUrl', () => {
  it('accepts http and https only, without credentials', () => {
    expect(parseWebhookUrl('https://hooks.example.com/x').hostname).toBe('hooks.example.com');
    expect(() => parseWebhookUrl('ftp://example.com/')).toThrow(WebhookUrlError);
    expect(() => parseWebhookUrl('file:///etc/passwd')).toThrow(WebhookUrlError);
    expect(() => parseWebhookUrl('https://user:pw@example.com/')).toThrow(WebhookUrlError);
    expect(() => parseWebhookUrl('not a url')).toThrow(WebhookUrlError);
  });
});

describe('refusePrivateHost', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string) => table[host] ?? [];

  it('checks every address a name resolves to', async () => {
    const resolve = resolver({
      'public.test': ['93.184.216.34'],
      'mixed.test': ['93.184.216.34', '10.0.0.7'],
    });
    await expect(refusePrivateHost(new URL('https://public.test/'), resolve)).resolves.toBeUndefined();
    await expect(refusePrivateHost(new URL('https://mixed.test/'), resolve)).rejects.toThrow(/10\.0\.0\.7/);
    await expect(refusePrivateHost(new URL('https://nowhere.test/'), resolve)).rejects.toThrow(
      /does not resolve/,
    );
  });

  it('checks IP literals without resolving them', async () => {
    const resolve = async () => {
      throw new Error('resolved a literal');
    };
    await expect(refusePrivateHost(new URL('http://[::1]:8080/'), resolve)).rejects.toThrow(/private/);
    await expect(refusePrivateHost(new URL('http://8.8.8.8/'), resolve)).resolves.toBeUndefined();
  });
});
