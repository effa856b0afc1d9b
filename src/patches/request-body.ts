/*
 * A POST's JSON body read once, by us, for v2 `createMcpHandler`'s `fetch`: handed to the SDK parsed
 * (its own `parsedBody` option, which skips its read), so that describing a refused request needs no
 * `Request.clone()` (~30–45 µs of CPU per request). Anything else the SDK would see differently — a
 * body too long, empty, not JSON, a stream that fails — is handed back as a request carrying the same
 * bytes (or the same failure), so the SDK answers as it does without us.
 */

/** What the SDK's `createMcpHandler` reads at most (`maxRequestBodySize`; 2.4's default). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface RequestWithBody {
  readonly method?: unknown;
  readonly url?: unknown;
  readonly bodyUsed?: unknown;
  readonly body?: ReadableStream<Uint8Array> | null;
  readonly headers?: { get?(name: string): string | null };
  readonly signal?: AbortSignal;
}

/** The body parsed, or a request to hand the SDK instead of the one read. */
export type ReadBody = { readonly parsed: unknown; readonly replay?: undefined } | { readonly parsed?: undefined; readonly replay: Request };

/**
 * `application/json`, with at most a UTF-8 charset: a content type the SDK takes for JSON whichever way
 * it parses it (anything else is left to the SDK, unread: it may answer 415 without reading).
 */
function plainJson(contentType: string | null | undefined): boolean {
  if (contentType === 'application/json') return true;
  if (typeof contentType !== 'string' || contentType.includes(',')) return false;
  const semicolon = contentType.indexOf(';');
  const essence = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (essence !== 'application/json') return false;
  return semicolon === -1 || /^\s*charset\s*=\s*"?utf-8"?\s*$/i.test(contentType.slice(semicolon + 1));
}

/** Whether the body of `request` is one the SDK will read in full (a POST with a JSON body, unread). */
export function readableJsonPost(request: unknown, options: unknown): request is RequestWithBody {
  if (request === null || typeof request !== 'object') return false;
  const req = request as RequestWithBody;
  if (req.method !== 'POST' || req.bodyUsed !== false || req.body === null || typeof req.body?.getReader !== 'function') return false;
  if ((options as { parsedBody?: unknown } | undefined)?.parsedBody !== undefined) return false;
  return typeof req.url === 'string' && typeof req.headers?.get === 'function' && plainJson(req.headers.get('content-type'));
}

/**
 * Reads `request`'s body (at most `maxBytes`). Rejects when nothing was read (then `request` is
 * untouched and is handed on as it is), or, after a read, if no replaying request can be made (no
 * known way on Node: the SDK then finds the body read and answers as for an unreadable body).
 */
export async function readJsonBody(request: RequestWithBody, maxBytes: number): Promise<ReadBody> {
  const declared = Number(request.headers!.get!('content-length'));
  if (declared > maxBytes) throw new RangeError('declared longer than the limit: left unread');
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  let failure: { error: unknown } | undefined;
  let more = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      if (received > maxBytes) {
        more = true;
        break;
      }
    }
  } catch (error) {
    failure = { error };
  }
  if (failure === undefined && !more) {
    const decoder = new TextDecoder();
    let text = '';
    for (const chunk of chunks) text += decoder.decode(chunk, { stream: true });
    text += decoder.decode();
    if (text.length > 0) {
      try {
        return { parsed: JSON.parse(text) as unknown };
      } catch {
        // Not JSON: the SDK reads it again and answers as it would.
      }
    }
  }
  return { replay: replayOf(request, chunks, more ? reader : undefined, failure) };
}

/** A request like `request` whose body gives the bytes read, then the rest, or the same failure. */
function replayOf(
  request: RequestWithBody,
  chunks: Uint8Array[],
  rest: ReadableStreamDefaultReader<Uint8Array> | undefined,
  failure: { error: unknown } | undefined,
): Request {
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next < chunks.length) {
        controller.enqueue(chunks[next++]!);
        return;
      }
      if (failure !== undefined) {
        controller.error(failure.error);
        return;
      }
      if (rest === undefined) {
        controller.close();
        return;
      }
      const { done, value } = await rest.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return rest?.cancel(reason);
    },
  });
  const init: RequestInit & { duplex: 'half' } = { method: 'POST', headers: request.headers as unknown as NonNullable<RequestInit['headers']>, body, duplex: 'half' };
  if (request.signal !== undefined) init.signal = request.signal;
  return new Request(request.url as string, init);
}
