import { createHash } from 'node:crypto';
import { access, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { and, asc, eq, gt, gte, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { findTenant } from '../db/repositories/tenants.ts';
import { evidence, messages, type EvidenceRow } from '../db/schema.ts';
import type { EvidenceFacts } from '../evidence/evidence-facts.ts';
import { renderReceipt } from '../evidence/receipt-pdf.ts';
import { AppError } from './errors.ts';
import { isUuid } from './ids.ts';
import { readWrittenEntries, zipDirectory, zipEntry, type ZipEntryRecord } from './zip-writer.ts';

/**
 * `sealpost proof export` (docs/evidence.md, "Exporting a period"): every proof
 * of a tenant's messages submitted in a period, into one zip with a manifest.
 * Resumable: entries are appended to `<out>.partial` in evidence-id order and
 * `<out>.state.json` records the last complete proof and the byte length behind
 * it; a later run truncates anything after that and continues (keyset by id).
 * Only evidence issued before the first run started is included, so a resumed
 * export holds exactly what an uninterrupted one started then would.
 */
export interface ProofExportRequest {
  tenantId: string;
  /** Days (YYYY-MM-DD, UTC), both inclusive: messages submitted from 00:00 of `from` to 24:00 of `to`. */
  from: string;
  to: string;
  out: string;
  pdf: boolean;
}

export interface ExportedProof {
  id: string;
  messageId: string;
  eventType: string;
  sequence: number;
  /** SHA-256 (hex) of the .p7m file, the same as the chain and the API name. */
  sha256: string;
  file: string;
  receipt?: string;
}

export interface ProofExportProgress {
  /** Proofs in the archive so far, this run and earlier ones. */
  proofs: number;
  /** Of those, written by earlier, interrupted runs. */
  resumed: number;
}

export type ProofExportResult =
  | { kind: 'complete'; proofs: number; resumed: number; out: string }
  | { kind: 'stopped'; proofs: number; resumed: number; partial: string; state: string };

export interface ProofExportOptions {
  /** Called after every proof written. */
  onProgress?: (progress: ProofExportProgress) => void;
  /** Asked after every proof: true ends the run early, resumable (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Stop (resumable) after this many proofs in this run. */
  maxProofs?: number;
}

interface ExportState {
  format: typeof STATE_FORMAT;
  tenantId: string;
  from: string;
  to: string;
  pdf: boolean;
  /** Evidence issued at or after this instant (the first run's start) is left out. */
  issuedBefore: string;
  lastProofId: string | null;
  /** Length of `<out>.partial` up to the end of the last complete proof. */
  bytes: number;
  proofs: number;
}

const STATE_FORMAT = 'sealpost-proof-export-state/1';
const MANIFEST_FORMAT = 'sealpost-proof-export/1';
const BATCH = 100;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const PROOF_FILE = /^proofs\/([0-9a-f-]{36})\/(\d+)-([a-z_]+)-([0-9a-f-]{36})\.(p7m|pdf)$/;

export const partialPath = (out: string) => `${out}.partial`;
export const statePath = (out: string) => `${out}.state.json`;

/**
 * Checks everything that can be checked before anything is written: the
 * dates, the tenant, the output path. Throws AppError naming the problem.
 */
export async function checkProofExport(db: Db, request: ProofExportRequest): Promise<{ tenantName: string }> {
  const from = parseDay(request.from, '--from');
  const to = parseDay(request.to, '--to');
  if (from > to) throw new AppError('invalid_field', `--from ${request.from} is after --to ${request.to}`, { field: 'from' });
  if (!request.out) throw new AppError('missing_field', '--out is required', { field: 'out' });
  const directory = dirname(request.out);
  const isDirectory = await stat(directory).then((s) => s.isDirectory(), () => false);
  if (!isDirectory) throw new AppError('invalid_field', `--out ${request.out}: ${directory} is not an existing directory`, { field: 'out' });
  if (await stat(request.out).then((s) => s.isDirectory(), () => false)) throw new AppError('invalid_field', `--out ${request.out} is a directory`, { field: 'out' });
  // Tried, not inferred from modes (root passes every access check, a read-only mount refuses root too).
  const probe = partialPath(request.out);
  const existed = await access(probe).then(() => true, () => false);
  await open(probe, 'a').then(
    async (f) => {
      await f.close();
      if (!existed) await rm(probe, { force: true });
    },
    (error: NodeJS.ErrnoException) => {
      throw new AppError('invalid_field', `--out ${request.out}: cannot write in ${directory} (${error.code ?? error.message})`, { field: 'out' });
    },
  );
  const tenant = isUuid(request.tenantId) ? await findTenant(db, request.tenantId.toLowerCase()) : undefined;
  if (!tenant) throw new AppError('not_found', `tenant ${request.tenantId} does not exist`, { id: request.tenantId });
  const state = await readState(request.out);
  if (state && (state.tenantId !== tenant.id || state.from !== request.from || state.to !== request.to || state.pdf !== request.pdf)) {
    throw new AppError(
      'invalid_field',
      `${statePath(request.out)} belongs to another export (tenant ${state.tenantId}, ${state.from} to ${state.to}${state.pdf ? ', --pdf' : ''}); ` +
        `run that one again to finish it, or delete ${partialPath(request.out)} and ${statePath(request.out)}`,
      { field: 'out' },
    );
  }
  return { tenantName: tenant.name };
}

/** Runs (or resumes) the export; call checkProofExport first. */
export async function exportProofs(db: Db, request: ProofExportRequest, options: ProofExportOptions = {}): Promise<ProofExportResult> {
  const { tenantName } = await checkProofExport(db, request);
  const tenantId = request.tenantId.toLowerCase();
  const partial = partialPath(request.out);
  const previous = await readState(request.out);
  const proofs: ExportedProof[] = [];
  const records: ZipEntryRecord[] = [];
  let state: ExportState;
  if (previous) {
    state = previous;
    const written = await readFile(partial).catch(() => {
      throw new AppError('invalid_field', `${statePath(request.out)} exists but ${partial} cannot be read; delete the state file to start over`, { field: 'out' });
    });
    const { entries, end } = readWrittenEntries(written.subarray(0, state.bytes));
    if (end !== state.bytes) {
      throw new AppError('invalid_field', `${partial} is damaged before the point ${statePath(request.out)} records; delete both to start over`, { field: 'out' });
    }
    for (const { record, data } of entries) {
      records.push(record);
      addToManifest(proofs, record.name, data);
    }
  } else {
    state = {
      format: STATE_FORMAT,
      tenantId,
      from: request.from,
      to: request.to,
      pdf: request.pdf,
      issuedBefore: await databaseNow(db),
      lastProofId: null,
      bytes: 0,
      proofs: 0,
    };
  }
  const resumed = proofs.length;
  // Anything after the last complete proof (a half-written entry of a crashed run) goes.
  const file = await open(partial, previous ? 'r+' : 'w');
  let closed = false;
  try {
    await file.truncate(state.bytes);
    if (!previous) await saveState(request.out, state);
    let offset = state.bytes;
    let thisRun = 0;
    const period = periodOf(request.from, request.to);
    for (;;) {
      const room = options.maxProofs === undefined ? BATCH : Math.min(BATCH, options.maxProofs - thisRun);
      if (room <= 0) return await stop();
      const rows = await proofBatch(db, tenantId, period, new Date(state.issuedBefore), state.lastProofId, room);
      if (rows.length === 0) break;
      for (const row of rows) {
        const facts = row.facts as unknown as EvidenceFacts;
        const stem = `proofs/${row.messageId}/${String(row.sequence).padStart(4, '0')}-${facts.event.type}-${row.id}`;
        const entries = [{ name: `${stem}.p7m`, data: row.signed }];
        if (request.pdf) entries.push({ name: `${stem}.pdf`, data: await renderReceipt(facts, row.signed) });
        for (const { name, data } of entries) {
          const entry = zipEntry(name, data, row.createdAt, offset);
          await file.write(entry.bytes, 0, entry.bytes.length, offset);
          offset += entry.bytes.length;
          records.push(entry.record);
          addToManifest(proofs, name, data);
        }
        state = { ...state, lastProofId: row.id, bytes: offset, proofs: proofs.length };
        thisRun++;
        options.onProgress?.({ proofs: proofs.length, resumed });
        if (options.shouldStop?.()) return await stop();
      }
      await checkpoint();
    }

    const manifest = Buffer.from(
      `${JSON.stringify(
        {
          format: MANIFEST_FORMAT,
          tenant: { id: tenantId, name: tenantName },
          period: { from: request.from, to: request.to, messagesSubmittedFrom: period.from.toISOString(), messagesSubmittedBefore: period.before.toISOString() },
          proofCount: proofs.length,
          receipts: request.pdf,
          proofs,
        },
        null,
        2,
      )}\n`,
    );
    const entry = zipEntry('manifest.json', manifest, period.from, offset);
    await file.write(entry.bytes, 0, entry.bytes.length, offset);
    offset += entry.bytes.length;
    const directory = zipDirectory([...records, entry.record], offset);
    await file.write(directory, 0, directory.length, offset);
    await file.truncate(offset + directory.length);
    await file.sync();
    await file.close();
    closed = true;
    await rename(partial, request.out);
    await rm(statePath(request.out), { force: true });
    return { kind: 'complete', proofs: proofs.length, resumed, out: request.out };

    async function checkpoint() {
      await file.sync();
      await saveState(request.out, state);
    }
    async function stop(): Promise<ProofExportResult> {
      await checkpoint();
      return { kind: 'stopped', proofs: proofs.length, resumed, partial, state: statePath(request.out) };
    }
  } finally {
    if (!closed) await file.close();
  }
}

/** The next proofs after `afterId` (by id) of the tenant's messages submitted in the period, issued before the cut-off. */
async function proofBatch(db: Db, tenantId: string, period: { from: Date; before: Date }, issuedBefore: Date, afterId: string | null, limit: number): Promise<EvidenceRow[]> {
  const rows = await db
    .select({ evidence })
    .from(evidence)
    .innerJoin(messages, eq(messages.id, evidence.messageId))
    .where(
      and(
        eq(evidence.tenantId, tenantId),
        gte(messages.createdAt, period.from),
        lt(messages.createdAt, period.before),
        lt(evidence.createdAt, issuedBefore),
        afterId ? gt(evidence.id, afterId) : undefined,
      ),
    )
    .orderBy(asc(evidence.id))
    .limit(limit);
  return rows.map((r) => r.evidence);
}

function addToManifest(proofs: ExportedProof[], name: string, data: Buffer): void {
  const match = PROOF_FILE.exec(name);
  if (!match) throw new Error(`unexpected entry ${name} in the partial export`);
  const [, messageId, sequence, eventType, id, kind] = match;
  if (kind === 'pdf') {
    const last = proofs.at(-1);
    if (last && last.id === id) last.receipt = name;
    return;
  }
  proofs.push({ id: id!, messageId: messageId!, eventType: eventType!, sequence: Number(sequence), sha256: createHash('sha256').update(data).digest('hex'), file: name });
}

function parseDay(value: string | undefined, flag: string): Date {
  const match = value === undefined ? null : DAY.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
  if (!date || date.toISOString().slice(0, 10) !== value) {
    throw new AppError('invalid_field', `${flag} must be a day as YYYY-MM-DD (UTC), got ${JSON.stringify(value ?? '')}`, { field: flag.slice(2) });
  }
  return date;
}

function periodOf(from: string, to: string): { from: Date; before: Date } {
  const end = parseDay(to, '--to');
  return { from: parseDay(from, '--from'), before: new Date(end.getTime() + 86_400_000) };
}

async function databaseNow(db: Db): Promise<string> {
  const result = await db.execute<{ now: string }>(sql`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
  return result.rows[0]!.now;
}

async function readState(out: string): Promise<ExportState | undefined> {
  const text = await readFile(statePath(out), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let state: ExportState;
  try {
    state = JSON.parse(text) as ExportState;
  } catch {
    state = {} as ExportState;
  }
  if (state.format !== STATE_FORMAT || typeof state.bytes !== 'number') {
    throw new AppError('invalid_field', `${statePath(out)} is not a proof export state file; delete it (and ${partialPath(out)}) to start over`, { field: 'out' });
  }
  return state;
}

/** Written beside, then renamed: a crash leaves the old state or the new one, never half of one. */
async function saveState(out: string, state: ExportState): Promise<void> {
  const path = statePath(out);
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
