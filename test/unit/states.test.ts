import { describe, expect, it } from 'vitest';
import { canTransition, recipientStatuses, summariseStatus, type RecipientStatus } from '../../src/core/states.ts';

describe('summariseStatus', () => {
  it.each<[RecipientStatus[], string]>([
    [['accepted'], 'accepted'],
    [['delivered', 'delivered'], 'delivered'],
    [['cancelled', 'cancelled'], 'cancelled'],
    [['failed'], 'failed'],
    [['accepted', 'processing'], 'processing'],
    [['retrying', 'delivered'], 'processing'],
    [['accepted', 'failed'], 'processing'],
    [['delivered', 'opened'], 'delivered'],
    [['opened', 'accepted_by_recipient', 'refused'], 'delivered'],
    [['delivered', 'failed'], 'partially_delivered'],
    [['opened', 'cancelled'], 'partially_delivered'],
    [['failed', 'cancelled'], 'failed'],
  ])('%j -> %s', (states, expected) => {
    expect(summariseStatus(states)).toBe(expected);
  });

  it('refuses a message without recipients', () => {
    expect(() => summariseStatus([])).toThrow(/at least one recipient/);
  });
});

describe('canTransition', () => {
  it.each<[RecipientStatus, RecipientStatus]>([
    ['accepted', 'processing'],
    ['accepted', 'cancelled'],
    ['processing', 'processing'],
    ['processing', 'delivered'],
    ['processing', 'retrying'],
    ['processing', 'failed'],
    ['retrying', 'processing'],
    ['retrying', 'cancelled'],
    ['retrying', 'failed'],
    ['delivered', 'opened'],
    ['delivered', 'accepted_by_recipient'],
    ['opened', 'refused'],
    ['delivered', 'expired'],
  ])('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each<[RecipientStatus, RecipientStatus]>([
    ['accepted', 'delivered'],
    ['accepted', 'accepted'],
    ['processing', 'cancelled'],
    ['processing', 'accepted'],
    ['delivered', 'processing'],
    ['delivered', 'failed'],
    ['delivered', 'cancelled'],
    ['retrying', 'delivered'],
  ])('refuses %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it.each<RecipientStatus>(['failed', 'cancelled', 'refused', 'expired'])('%s is final', (from) => {
    expect(recipientStatuses.filter((to) => canTransition(from, to))).toEqual([]);
  });
});
