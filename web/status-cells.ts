/** An external account's status as table cells: phase and progress, last run, the problem, next run. */
import { badge, h, time } from './dom';
import { session } from './session';
import type { ExternalAccountListItem, Status } from './types';

/** The phases in which a cycle runs: their accounts are asked for their status every second. */
export const ACTIVE = new Set(['starting', 'listing', 'downloading', 'deleting']);
const PHASE_TONE: Record<string, string> = { waiting: 'ok', disabled: 'off', reauthorization_needed: 'warn', stopped: 'off' };

/** The recorded status in the live status's shape, until the live query for that account answers. */
export function recordedAsStatus(recorded: NonNullable<ExternalAccountListItem['recordedStatus']>): Status {
  return {
    phase: recorded.phase,
    disabledReason: null,
    progress: null,
    tlsWarning: null,
    folderWarning: null,
    lastRun: recorded.lastRun,
    lastError: recorded.lastError,
    nextRunAt: recorded.nextRunAt,
    rerunQueued: false,
    delivery: { backlog: recorded.backlog, quarantined: recorded.quarantined, lastError: null },
    retrying: null,
  };
}

function runSummary(run: NonNullable<Status['lastRun']>): string {
  if (run.outcome !== 'ok') return run.outcome;
  const parts = (['delivered', 'quarantined', 'held', 'tooLarge'] as const).filter((k) => run[k] > 0).map((k) => `${run[k]} ${k}`);
  return parts.join(', ') || 'nothing new';
}

export function temporalLink(externalId: string): HTMLElement | null {
  if (!session.ui.temporalUiUrl) return null;
  const url = `${session.ui.temporalUiUrl}/namespaces/${encodeURIComponent(session.ui.temporalNamespace)}/workflows/${encodeURIComponent(`external-account:${externalId}`)}`;
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'temporal' }, 'Temporal ↗');
}

export function statusCells(status: Status | undefined, unavailable: string | undefined): HTMLElement[] {
  if (!status) return [h('td', { colspan: 4, class: 'muted' }, unavailable ?? 'loading…')];
  const phase = h(
    'td',
    { class: 'phase' },
    badge(status.phase.replace('_', ' '), status.lastError ? 'bad' : (PHASE_TONE[status.phase] ?? 'busy')),
    status.rerunQueued ? h('small', {}, ' another cycle queued') : null,
  );
  if (status.progress) {
    const { done, total } = status.progress;
    phase.append(
      h('div', { class: 'progress' }, h('progress', { max: Math.max(total, 1), value: done }), h('small', {}, `${done} / ${total}`)),
    );
  }
  const run = status.lastRun;
  const delivery = status.delivery.lastError && { kind: 'delivery', message: status.delivery.lastError.message };
  const problem = status.lastError ?? status.retrying?.lastError ?? delivery;
  return [
    phase,
    h(
      'td',
      {},
      run ? time(run.finishedAt) : '—',
      run ? h('div', { class: run.outcome === 'ok' ? 'muted' : 'bad-text' }, runSummary(run)) : null,
    ),
    h(
      'td',
      { class: 'problem' },
      problem ? h('span', { class: 'bad-text' }, `${problem.kind}: ${problem.message}`) : '—',
      status.retrying ? h('div', { class: 'muted' }, `${status.retrying.activity} retrying, attempt ${status.retrying.attempt}`) : null,
      status.tlsWarning ? h('div', { class: 'warn-text' }, status.tlsWarning) : null,
      status.folderWarning ? h('div', { class: 'warn-text' }, status.folderWarning) : null,
      status.disabledReason ? h('div', { class: 'muted' }, status.disabledReason) : null,
    ),
    h('td', {}, status.phase === 'waiting' ? time(status.nextRunAt) : '—'),
  ];
}
