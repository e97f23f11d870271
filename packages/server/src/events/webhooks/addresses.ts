import { BlockList, isIP } from 'node:net'

/**
 * Addresses a webhook may not call unless private targets are allowed: private,
 * loopback, link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 included),
 * shared, multicast, reserved and unspecified ranges, and IPv4 mapped into IPv6.
 * The request-filtering agent applies the same idea at connect time, after DNS.
 */
const refused = new BlockList()
for (const [network, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
] as const)
  refused.addSubnet(network, bits, 'ipv4')
for (const [network, bits] of [
  ['::', 127],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  refused.addSubnet(network, bits, 'ipv6')

/** Matches the configured allowed addresses: single IPs and CIDR ranges. */
export function allowList(entries: readonly string[]): BlockList {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/')
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(bits), family)
  }
  return list
}

/** Whether a literal IP (without brackets) is one a webhook may not call. */
export function isRefusedAddress(address: string, allowed: BlockList): boolean {
  const family = isIP(address)
  if (family === 0) return false
  const type = family === 6 ? 'ipv6' : 'ipv4'
  return refused.check(address, type) && !allowed.check(address, type)
}

/** The host of a URL as a literal IP, or null when it is a name. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  return isIP(host) === 0 ? null : host
}
