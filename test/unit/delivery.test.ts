import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  deliveryRetryDelayMs,
  dispositionOf,
  HOLD_LIMIT_MS,
  outcomeOfAppendFailure,
  outcomeOfReply,
  type RecipientOutcome,
} from '../../core/delivery-outcome';
import { routeRecipients } from '../../core/delivery-routing';
import { envelopeSender } from '../../core/envelope';
import { parseHeaders } from '../../core/headers';

const headers = (text: string) => parseHeaders(Buffer.from(`${text}\r\n\r\nbody\r\n`));

describe('envelope sender', () => {
  test('Return-Path first, then From, then the null sender', () => {
    assert.equal(envelopeSender(headers('Return-Path: <bounce@lists.example>\r\nFrom: A <a@example.com>')), 'bounce@lists.example');
    assert.equal(envelopeSender(headers('From: "A, B" <a@example.com>')), 'a@example.com');
    assert.equal(envelopeSender(headers('Subject: none')), '');
  });

  test('a Return-Path of <> is a bounce and stays the null sender', () => {
    assert.equal(envelopeSender(headers('Return-Path: <>\r\nFrom: a@example.com')), '');
    assert.equal(envelopeSender(headers('Return-Path: < >\r\nFrom: a@example.com')), '');
  });

  test('nothing that could break the MAIL FROM command gets into it', () => {
    assert.equal(envelopeSender(headers('Return-Path: <a b@example.com>\r\nFrom: c@example.com')), 'c@example.com');
    assert.equal(envelopeSender(headers('From: x@example.com>\r\nSubject: y')), '', 'a garbled From gives the null sender');
    assert.equal(envelopeSender(headers('From: undisclosed')), '');
  });
});

describe('delivery outcomes', () => {
  test('reply codes decide: 2xx delivered, 4xx temporary, 5xx permanent, none temporary', () => {
    assert.equal(outcomeOfReply(250, 'ok').status, 'delivered');
    assert.equal(outcomeOfReply(451, 'later').status, 'temporary');
    assert.equal(outcomeOfReply(452, 'quota').status, 'temporary');
    assert.equal(outcomeOfReply(550, 'no such user').status, 'permanent');
    assert.equal(outcomeOfReply(552, 'quota').status, 'permanent');
    assert.equal(outcomeOfReply(undefined, 'ECONNREFUSED').status, 'temporary');
    assert.equal(outcomeOfReply(354, 'odd').status, 'temporary');
  });

  test('IMAP APPEND: passing states are retried, other refusals are permanent, no answer is temporary', () => {
    assert.equal(outcomeOfAppendFailure({ serverResponse: true, responseCode: 'OVERQUOTA', text: 'NO' }).status, 'temporary');
    assert.equal(outcomeOfAppendFailure({ serverResponse: true, responseCode: 'authenticationfailed', text: 'NO' }).status, 'temporary');
    assert.equal(outcomeOfAppendFailure({ serverResponse: true, responseCode: undefined, text: 'NO bad message' }).status, 'permanent');
    assert.equal(outcomeOfAppendFailure({ serverResponse: false, text: 'socket closed' }).status, 'temporary');
  });

  test('a temporary answer holds the message, permanent ones quarantine it, until the hold limit', () => {
    const d: RecipientOutcome = { status: 'delivered', response: '' };
    const t: RecipientOutcome = { status: 'temporary', response: '' };
    const p: RecipientOutcome = { status: 'permanent', response: '' };
    assert.equal(dispositionOf([]), 'delivered');
    assert.equal(dispositionOf([d, d]), 'delivered');
    assert.equal(dispositionOf([d, p]), 'quarantined');
    assert.equal(dispositionOf([p, t]), 'held');
    assert.equal(dispositionOf([t], HOLD_LIMIT_MS - 1), 'held');
    assert.equal(dispositionOf([t], HOLD_LIMIT_MS), 'quarantined');
  });

  test('retry waits double from the base and stop at 30 minutes', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => deliveryRetryDelayMs(n, 30_000)),
      [30_000, 60_000, 120_000, 240_000],
    );
    assert.equal(deliveryRetryDelayMs(20, 30_000), 30 * 60_000);
    assert.equal(deliveryRetryDelayMs(1, 1000), 1000);
  });
});

describe('delivery routing', () => {
  const homes = [
    { accountId: 'a', address: 'a@one.test', domainTargetId: 'lmtp-1' },
    { accountId: 'b', address: 'b@two.test', domainTargetId: null },
  ];
  test('each recipient follows its domain; null is the built-in store', () => {
    assert.deepEqual(
      [...routeRecipients(homes, { mode: 'domain' })],
      [
        ['a', 'lmtp-1'],
        ['b', 'store'],
      ],
    );
  });
  test('an account override sends every recipient the same way', () => {
    assert.deepEqual(
      [...routeRecipients(homes, { mode: 'store' })],
      [
        ['a', 'store'],
        ['b', 'store'],
      ],
    );
    assert.deepEqual(
      [...routeRecipients(homes, { mode: 'target', targetId: 'smtp-9' })],
      [
        ['a', 'smtp-9'],
        ['b', 'smtp-9'],
      ],
    );
  });
});
