/**
 * ipaddr.js, loaded with `require`. Imported as an ES module, this one CommonJS file cost ~5 MB of resident
 * memory in the main thread and ~3 MB in each TFTP worker (Node 20; measured with the compiled build, the
 * same code either way): pxedeck's every use goes through here.
 */
import { createRequire } from 'node:module';
import type Ipaddr from 'ipaddr.js';

const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof Ipaddr;
export default ipaddr;

export type IPv4 = Ipaddr.IPv4;
export type IPv6 = Ipaddr.IPv6;
