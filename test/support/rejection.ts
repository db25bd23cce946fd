import assert from 'node:assert/strict';
import { MailpullError } from '../../core/errors';

/** The typed error a promise rejects with; fails the test if it resolves or throws anything else. */
export async function rejection(promise: Promise<unknown>): Promise<MailpullError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MailpullError, `a typed error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}
