/**
 * One HTTP request's facts for its `http.request` event (filled in by whichever handler answers), and the
 * two ways pxedeck answers with text: a refusal that says why, and a script.
 */
import type { ServerResponse } from 'node:http';
import type { Mac } from '../../protocol/mac.js';
import type { HttpRoute } from '../events.js';
import { sendText } from './plain-http.js';
import type { Requester } from './requester.js';
import type { TransferMeter } from './transfer-meter.js';

export interface Exchange {
  readonly startedAt: number;
  readonly ip: string;
  readonly rawPath: string;
  readonly query: URLSearchParams;
  route: HttpRoute;
  /** Which machine the request speaks for, by the network's word (requester.ts). */
  requester: Requester;
  /** What its events are counted to. */
  mac?: Mac;
  bytes?: number;
  /** A body download's meter: its count is the bytes the client got, even when it left halfway. */
  meter?: TransferMeter;
  reason?: string;
}

const NO_STORE = { 'Cache-Control': 'no-store' } as const;

/** Answers `status` with the reason as text (and keeps it for the event); a response already under way is cut off. */
export function refuse(res: ServerResponse, exchange: Exchange, status: number, reason: string): void {
  exchange.reason = reason;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendText(res, status, `${reason}\n`, NO_STORE);
}

export function textReply(res: ServerResponse, exchange: Exchange, body: string): void {
  exchange.bytes = Buffer.byteLength(body);
  sendText(res, 200, body, NO_STORE);
}
