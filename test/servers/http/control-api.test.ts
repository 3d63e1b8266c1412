// The control API on its own loopback listener: routes, token, and the guards against the boot network
// and against web pages in the operator's browser.
import { afterEach, describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/protocol/mac.js';
import type { PxedeckEvent } from '../../../src/servers/events.js';
import { ControlError, createControlApi, type ControlApi, type ControlHandlers } from '../../../src/servers/http/control-api.js';
import { ofKind, rawRequest, waitFor } from './fixtures.js';

const apis: ControlApi[] = [];
afterEach(async () => {
  await Promise.all(apis.splice(0).map((api) => api.close()));
});

function recordingHandlers(calls: string[]): ControlHandlers {
  return {
    listClients: () => [{ mac: '52:54:00:00:00:01', stage: 'booted' }],
    assign: async (mac, body) => {
      calls.push(`assign ${mac} ${JSON.stringify(body)}`);
      if ((body as { profile?: string }).profile === 'nope') throw new ControlError(404, 'no such profile: nope');
      return { profile: (body as { profile?: string }).profile };
    },
    hold: (mac: Mac) => void calls.push(`hold ${mac}`),
    release: (mac: Mac) => void calls.push(`release ${mac}`),
  };
}

const TOKEN = 's3cret-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

async function start(options: { bind?: string; calls?: string[]; events?: PxedeckEvent[] } = {}) {
  const events = options.events ?? [];
  const api = await createControlApi({
    port: 0,
    ...(options.bind && { bind: options.bind }),
    token: TOKEN,
    emit: (event) => events.push(event),
    handlers: recordingHandlers(options.calls ?? []),
  });
  apis.push(api);
  const host = api.address.includes(':') ? `[${api.address}]` : api.address;
  return { api, events, base: `http://${host}:${api.port}` };
}

const json = { 'content-type': 'application/json', ...auth };

describe('control API', () => {
  it('listens on loopback by default and lists clients', async () => {
    const { api, base, events } = await start();
    expect(api.address).toBe('127.0.0.1');
    const response = await fetch(`${base}/v1/clients`, { headers: auth });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([{ mac: '52:54:00:00:00:01', stage: 'booted' }]);
    await waitFor(() => ofKind(events, 'http.request').length === 1);
    expect(ofKind(events, 'http.request')[0]).toMatchObject({ route: 'control', status: 200, path: '/v1/clients' });
  });

  it('assigns, holds and releases by MAC in any spelling, passing handler errors through with their status', async () => {
    const calls: string[] = [];
    const { base } = await start({ calls });
    const assigned = await fetch(`${base}/v1/clients/52-54-00-AA-BB-CC/assign`, { method: 'POST', headers: json, body: JSON.stringify({ profile: 'debian', once: true }) });
    expect(assigned.status).toBe(200);
    expect(await assigned.json()).toEqual({ ok: true, mac: '52:54:00:aa:bb:cc', result: { profile: 'debian' } });
    expect((await fetch(`${base}/v1/clients/525400aabbcc/hold`, { method: 'POST', headers: json })).status).toBe(200);
    expect((await fetch(`${base}/v1/clients/52:54:00:aa:bb:cc/release`, { method: 'POST', headers: json, body: '{}' })).status).toBe(200);
    expect(calls).toEqual(['assign 52:54:00:aa:bb:cc {"profile":"debian","once":true}', 'hold 52:54:00:aa:bb:cc', 'release 52:54:00:aa:bb:cc']);

    const unknown = await fetch(`${base}/v1/clients/525400aabbcc/assign`, { method: 'POST', headers: json, body: JSON.stringify({ profile: 'nope' }) });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no such profile: nope' });
    expect((await fetch(`${base}/v1/clients/not-a-mac/hold`, { method: 'POST', headers: json })).status).toBe(400);
    expect((await fetch(`${base}/v1/clients/525400aabbcc/assign`, { method: 'POST', headers: json, body: '{broken' })).status).toBe(400);
    expect((await fetch(`${base}/v1/clients/525400aabbcc/assign`, { method: 'POST', headers: json, body: JSON.stringify({ pad: 'x'.repeat(100_000) }) })).status).toBe(413);
    expect((await fetch(`${base}/v1/nothing`, { headers: auth })).status).toBe(404);
  });

  it('refuses what a web page could send, even with the token: non-JSON bodies, an Origin, a foreign Host (DNS rebinding)', async () => {
    const calls: string[] = [];
    const { base, api } = await start({ calls });
    expect((await fetch(`${base}/v1/clients/525400aabbcc/hold`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);
    expect((await fetch(`${base}/v1/clients/525400aabbcc/hold`, { method: 'POST', headers: { ...json, origin: 'http://evil.example' } })).status).toBe(403);
    const rebound = await rawRequest(api.port, `GET /v1/clients HTTP/1.1\r\nHost: evil.example:80\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
    expect(rebound.status).toBe(403);
    const localhost = await rawRequest(api.port, `GET /v1/clients HTTP/1.1\r\nHost: localhost:${api.port}\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`);
    expect(localhost.status).toBe(200);
    expect(calls).toEqual([]);
  });

  it('requires the token on every request, on loopback too (any local user can reach loopback)', async () => {
    const calls: string[] = [];
    const { base } = await start({ calls });
    expect((await fetch(`${base}/v1/clients`)).status).toBe(401);
    expect((await fetch(`${base}/v1/clients`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${base}/v1/clients`, { headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    expect((await fetch(`${base}/v1/clients/525400aabbcc/hold`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${base}/v1/clients/525400aabbcc/assign`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kernel":"/etc/shadow"}' })).status).toBe(401);
    expect((await fetch(`${base}/v1/clients`, { headers: auth })).status).toBe(200);
    // A bodiless POST needs no content type (curl -X POST).
    expect((await fetch(`${base}/v1/clients/525400aabbcc/hold`, { method: 'POST', headers: auth })).status).toBe(200);
    expect(calls).toEqual(['hold 52:54:00:aa:bb:cc']);
  });

  it('refuses to start without a token of at least 16 characters, with a clear error', async () => {
    for (const token of ['', 'short-token']) {
      await expect(createControlApi({ port: 0, token, emit: () => undefined, handlers: recordingHandlers([]) })).rejects.toThrow(/refusing to start the control API without a token of at least 16 characters/);
    }
  });

  it('starts on IPv6 loopback', async () => {
    const v6 = await start({ bind: '::1' });
    expect((await fetch(`${v6.base}/v1/clients`, { headers: auth })).status).toBe(200);
  });
});
