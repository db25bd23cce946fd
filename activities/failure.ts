import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { classifyError } from '../core/errors';

/** Runs an activity body and turns any error but a cancellation into a typed ApplicationFailure, retryable or not. */
export async function typedFailures<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ApplicationFailure || err instanceof CancelledFailure) throw err;
    const { kind, message, retryable } = classifyError(err);
    throw ApplicationFailure.create({ type: kind, message, nonRetryable: !retryable });
  }
}
