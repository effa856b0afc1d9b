/*
 * Reading a collected audit trail: the OTLP JSON a collector's `file` exporter writes (one
 * `ExportLogsServiceRequest` per line), flattened into the audit log records it holds, each with the
 * replica (`service.instance.id`) that sent it; other log records are counted, unreadable lines reported.
 */
import { readFileSync } from 'node:fs';
import { splitLines } from './line';
import {
  ATTR_AUDIT_CHAIN,
  ATTR_AUDIT_CHAIN_NAME,
  ATTR_AUDIT_HASH,
  ATTR_AUDIT_KEY_ID,
  ATTR_AUDIT_PREV,
  ATTR_AUDIT_SEQ,
  ATTR_SERVICE_INSTANCE_ID,
  AUDIT_EVENT_NAME,
} from './otlp-attributes';

/** One audit log record found in a collector file. */
export interface CollectedEntry {
  file: string;
  /** 1-based line of the file (the export request it came in). */
  line: number;
  replica: string;
  chain: string;
  name: string | undefined;
  /** The chain fields as the attributes give them (the body is what counts). */
  attributes: { seq: unknown; prev: unknown; hash: unknown; keyId: unknown };
  /** The record as written: its canonical line. */
  body: string;
}

/** A line of a collector file that holds no readable export request. */
export interface CollectedLineProblem {
  file: string;
  line: number;
  message: string;
}

export interface CollectedFile {
  entries: CollectedEntry[];
  /** Log records that are not audit records (skipped). */
  foreign: number;
  lines: number;
  problems: CollectedLineProblem[];
}

const COLLECTOR_LINE = /^\s*\{\s*"resourceLogs"\s*:/;

/** Whether `head` (a file's first bytes) is OTLP JSON as a collector's file exporter writes it. */
export function looksCollected(head: string): boolean {
  return COLLECTOR_LINE.test(head);
}

type Json = Record<string, unknown>;

function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value.filter((v) => v !== null && typeof v === 'object') as Json[]) : [];
}

function anyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as { stringValue?: unknown; intValue?: unknown; doubleValue?: unknown; boolValue?: unknown };
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return typeof v.intValue === 'string' ? Number(v.intValue) : v.intValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue;
}

function attributes(value: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const attribute of list(value)) {
    if (typeof attribute.key === 'string') map.set(attribute.key, anyValue(attribute.value));
  }
  return map;
}

/** Reads one collector file; never throws for its contents (an unreadable file is a problem at line 0). */
export function readCollectedFile(path: string): CollectedFile {
  const result: CollectedFile = { entries: [], foreign: 0, lines: 0, problems: [] };
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    result.problems.push({ file: path, line: 0, message: `cannot read the file: ${(error as Error).message}` });
    return result;
  }
  for (const line of splitLines(content)) {
    if (line.text.trim() === '') continue;
    result.lines += 1;
    let request: unknown;
    try {
      request = JSON.parse(line.text);
    } catch (error) {
      const cut = !line.terminated ? 'the last line is cut short (no newline): the file was truncated, or its writer stopped mid-line' : 'not JSON';
      result.problems.push({ file: path, line: line.number, message: `${cut} (${(error as Error).message}); its records are not read` });
      continue;
    }
    const resourceLogs = (request as Json | null)?.resourceLogs;
    if (request === null || typeof request !== 'object' || !Array.isArray(resourceLogs)) {
      result.problems.push({ file: path, line: line.number, message: 'not an ExportLogsServiceRequest (no resourceLogs)' });
      continue;
    }
    for (const rl of list(resourceLogs)) {
      const replica = attributes((rl.resource as Json | undefined)?.attributes).get(ATTR_SERVICE_INSTANCE_ID);
      for (const sl of list(rl.scopeLogs)) {
        for (const record of list(sl.logRecords)) {
          const attrs = attributes(record.attributes);
          const chain = attrs.get(ATTR_AUDIT_CHAIN);
          if (record.eventName !== AUDIT_EVENT_NAME && chain === undefined) {
            result.foreign += 1;
            continue;
          }
          const body = anyValue(record.body);
          if (typeof chain !== 'string' || typeof body !== 'string') {
            result.problems.push({
              file: path,
              line: line.number,
              message: `an audit log record without ${typeof chain !== 'string' ? `its ${ATTR_AUDIT_CHAIN} attribute` : 'its record (a string body)'}: it cannot be placed in a chain`,
            });
            continue;
          }
          const name = attrs.get(ATTR_AUDIT_CHAIN_NAME);
          result.entries.push({
            file: path,
            line: line.number,
            replica: typeof replica === 'string' && replica !== '' ? replica : '(no service.instance.id)',
            chain,
            name: typeof name === 'string' ? name : undefined,
            attributes: { seq: attrs.get(ATTR_AUDIT_SEQ), prev: attrs.get(ATTR_AUDIT_PREV), hash: attrs.get(ATTR_AUDIT_HASH), keyId: attrs.get(ATTR_AUDIT_KEY_ID) },
            body,
          });
        }
      }
    }
  }
  return result;
}
