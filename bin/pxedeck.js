#!/usr/bin/env node
// Runs the TypeScript sources directly so `npx pxedeck` works in a checkout right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.tsx');
process.exitCode = await main(process.argv.slice(2));
