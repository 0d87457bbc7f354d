/**
 * What an outbox job asks a worker to do. Names are stored in `outbox.kind`;
 * each has exactly one handler, registered in the composition root.
 */
export const JobKind = Object.freeze({
  /** Hand one recipient's copy of a message to the next MTA. */
  deliver: 'deliver',
} as const);
export type JobKind = (typeof JobKind)[keyof typeof JobKind];

export const jobKinds: readonly JobKind[] = Object.values(JobKind);

export const isJobKind = (value: string): value is JobKind => (jobKinds as readonly string[]).includes(value);
