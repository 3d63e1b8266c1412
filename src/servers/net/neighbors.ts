/**
 * IP → MAC from the kernel's neighbour (ARP) table. In proxy mode the site's DHCP server hands out the
 * addresses, so the first time pxedeck sees a machine's IP is its TFTP or HTTP request; by then the kernel
 * has resolved that IP to a MAC to answer it.
 */
import { readFileSync } from 'node:fs';
import { parseMac, type Mac } from '../../protocol/mac.js';

/** Parses /proc/net/arp: "IP address  HW type  Flags  HW address  Mask  Device". */
export function parseArpTable(text: string): Map<string, Mac> {
  const table = new Map<string, Mac>();
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, hw] = line.trim().split(/\s+/);
    // Flags 0x0 is an incomplete entry; 00:00:00:00:00:00 is no answer.
    if (!ip || !hw || flags === '0x0' || hw === '00:00:00:00:00:00') continue;
    const mac = parseMac(hw);
    if (mac) table.set(ip, mac);
  }
  return table;
}

export function neighborMac(ip: string, read: () => string = () => readFileSync('/proc/net/arp', 'utf8')): Mac | undefined {
  try {
    return parseArpTable(read()).get(ip.replace(/^::ffff:/, ''));
  } catch {
    return undefined;
  }
}
