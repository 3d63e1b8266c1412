#!/usr/bin/env node
// Runs the TypeScript sources directly so `npx pxedeck` works in a checkout right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.tsx');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Servers are closed by now; should a handle still linger, do not hang a script waiting on us.
setTimeout(() => process.exit(code), 2000).unref();
