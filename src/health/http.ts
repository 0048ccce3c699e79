/**
 * HTTP(S) GET check, as ldirectord's "request a page, expect a string". A fresh connection each
 * run (no keep-alive agent) so the check exercises the service's accept path, not an idle
 * socket. Never rejects; bounded by the timeout (AbortSignal.timeout) and by the caller's signal.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { errorText } from '../adapters/bounded-buffer.js';
import { HTTP_BODY_MAX_BYTES, type CheckResult, type HttpCheckSpec } from './types.js';

export type HttpCheckParams = Pick<HttpCheckSpec, 'url' | 'expectStatus' | 'expectBody' | 'insecure' | 'timeout'>;

export function httpCheck(spec: HttpCheckParams, signal?: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done: Done = (ok, detail) => {
      if (settled) return;
      settled = true;
      resolve({ ok, detail, ms: Math.round(performance.now() - started) });
    };
    const url = target(spec.url);
    if (typeof url === 'string') {
      done(false, url);
      return;
    }
    const timeout = AbortSignal.timeout(spec.timeout);
    // An error after our own timeout fired is reported as the timeout, not as "aborted".
    const failed = (err: unknown): void => done(false, timeout.aborted ? `timed out after ${spec.timeout} ms` : errorText(err));
    const req = (url.protocol === 'https:' ? https : http).get(url, {
      agent: false,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      headers: { 'user-agent': 'haagent-health', connection: 'close' },
      ...(url.protocol === 'https:' && spec.insecure ? { rejectUnauthorized: false } : {}),
    });
    req.on('error', failed);
    req.on('response', (res) => {
      res.on('error', failed);
      judge(res, spec, done);
    });
  });
}

type Done = (ok: boolean, detail: string) => void;

/** The URL to request, or why it cannot be. */
function target(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `bad url ${text}`;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : `unsupported protocol ${url.protocol}`;
}

/** Status first; the body is read only when a substring is expected. */
function judge(res: http.IncomingMessage, spec: HttpCheckParams, done: Done): void {
  const status = res.statusCode ?? 0;
  if (!statusOk(status, spec.expectStatus)) {
    res.destroy();
    done(false, `status ${status}, expected ${spec.expectStatus ?? '2xx'}`);
    return;
  }
  if (spec.expectBody === null) {
    // Status is all we asked for: do not download the page.
    res.destroy();
    done(true, `status ${status}`);
    return;
  }
  readBody(res, spec.expectBody, (found, why) => {
    res.destroy();
    done(found, found ? `status ${status}, body matched` : why);
  });
}

function statusOk(status: number, expected: number | null): boolean {
  return expected === null ? status >= 200 && status < 300 : status === expected;
}

/**
 * Collects at most HTTP_BODY_MAX_BYTES and answers as soon as the substring is seen; a body that
 * ends (or passes the limit) without it is a failure.
 */
function readBody(res: http.IncomingMessage, expected: string, answer: (found: boolean, why: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let answered = false;
  const finish = (found: boolean, why: string): void => {
    if (answered) return;
    answered = true;
    answer(found, why);
  };
  const seen = (): boolean => Buffer.concat(chunks, size).toString('utf8').includes(expected);
  res.on('data', (chunk: Buffer) => {
    if (answered) return;
    const room = HTTP_BODY_MAX_BYTES - size;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    chunks.push(kept);
    size += kept.length;
    if (seen()) finish(true, '');
    else if (size >= HTTP_BODY_MAX_BYTES) finish(false, `body lacks ${JSON.stringify(expected)} in its first ${HTTP_BODY_MAX_BYTES} bytes`);
  });
  res.on('end', () => finish(false, `body lacks ${JSON.stringify(expected)}`));
  // A connection cut mid-body may end with 'close' alone; answer rather than hang until timeout.
  res.on('close', () => finish(false, 'connection closed before the body ended'));
}
