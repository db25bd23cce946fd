import type { AccountList, CreatedExternalAccount } from '../../api/response-types';
import type { ApiClient } from '../api-client';
import type { Command, CommandInput } from '../command';
import { CommandError } from '../errors';
import { parseFetchmailrc } from '../import/fetchmailrc';
import { fromFetchmailrc } from '../import/from-fetchmail';
import { fromGetmailrc } from '../import/from-getmail';
import { parseGetmailrc } from '../import/getmailrc';
import { RcSyntaxError, type ExternalAccountDraft, type ImportEntry, type ImportPlan, type Unsupported } from '../import/plan';
import type { Output } from '../output';
import type { Account } from '../resolve';
import { readTextFile } from './external-accounts';

interface EntryResult {
  source: string;
  owner: string | null;
  account: Omit<ExternalAccountDraft, 'password'> & { passwordSet: boolean };
  tlsCaFile: string | null;
  unsupported: Unsupported[];
  /** set when the entry was (or would be) created */
  createdId: string | null;
  /** why it was not created */
  error: string | null;
}

const withoutSecret = ({ password, ...rest }: ExternalAccountDraft): EntryResult['account'] => ({
  ...rest,
  passwordSet: password !== undefined,
});

function summary(a: EntryResult['account']): string {
  const port = a.port === undefined ? '' : `:${a.port}`;
  const policy = typeof a.deletePolicy === 'string' ? a.deletePolicy : `after ${a.deletePolicy.afterDays} days`;
  const folders = a.folders.mode === 'list' ? a.folders.names.join(',') : a.folders.mode;
  return `${a.protocol} ${a.username}@${a.host}${port}, tls ${a.tlsMode}${a.allowInvalidCertificates ? ' (certificate not checked)' : ''}, delete ${policy}, folders ${folders}${a.push ? ', push' : ''}${a.enabled ? '' : ', disabled'}`;
}

function render(results: EntryResult[], global: Unsupported[], dryRun: boolean): string {
  const lines: string[] = [];
  for (const r of results) {
    const head = r.error ? 'NOT CREATED' : dryRun ? 'would create' : `created ${r.createdId}`;
    lines.push(`${head}: "${r.account.name}" from ${r.source}`);
    lines.push(`  ${summary(r.account)}${r.owner ? `, owner ${r.owner}` : ''}`);
    if (r.tlsCaFile) lines.push(`  trusts the certificate in ${r.tlsCaFile}`);
    if (r.error) lines.push(`  reason: ${r.error}`);
    for (const u of r.unsupported) lines.push(`  no equivalent: ${u.option} — ${u.reason}`);
  }
  if (results.length === 0) lines.push('the file describes no mailbox to collect');
  for (const u of global) lines.push(`no equivalent (whole file): ${u.option} — ${u.reason}`);
  return lines.join('\n');
}

/** The first candidate owner that is a local account. */
function ownerOf(entry: ImportEntry, accounts: Map<string, Account>): Account | null {
  for (const address of entry.owners) {
    const account = accounts.get(address.toLowerCase());
    if (account) return account;
  }
  return null;
}

async function create(
  api: ApiClient,
  entry: ImportEntry,
  accounts: Map<string, Account>,
): Promise<{ id: string | null; owner: string | null; error: string | null }> {
  if (entry.problem) return { id: null, owner: entry.owners[0] ?? null, error: entry.problem };
  const owner = ownerOf(entry, accounts);
  if (!owner)
    return { id: null, owner: null, error: `no local account ${entry.owners.join(' or ')}; create it first (mailpull accounts add)` };
  try {
    const tlsCa = entry.tlsCaFile === null ? undefined : readTextFile(entry.tlsCaFile);
    const created = await api.post<CreatedExternalAccount>('/api/external-accounts', {
      ...entry.account,
      ownerAccountId: owner.id,
      ...(tlsCa ? { tlsCa } : {}),
    });
    return { id: created.id, owner: owner.address, error: null };
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    return { id: null, owner: owner.address, error: err.message };
  }
}

async function runImport(plan: ImportPlan, { options, api }: CommandInput): Promise<Output> {
  const dryRun = options.flag('dry-run');
  const results: EntryResult[] = [];
  let accounts = new Map<string, Account>();
  if (!dryRun && plan.entries.some((e) => !e.problem)) {
    const list = (await api().get<AccountList>('/api/accounts')).accounts;
    accounts = new Map(list.map((a) => [a.address.toLowerCase(), a]));
  }
  for (const entry of plan.entries) {
    const outcome = dryRun ? { id: null, owner: entry.owners[0] ?? null, error: entry.problem } : await create(api(), entry, accounts);
    results.push({
      source: entry.source,
      owner: outcome.owner,
      account: withoutSecret(entry.account),
      tlsCaFile: entry.tlsCaFile,
      unsupported: entry.unsupported,
      createdId: outcome.id,
      error: outcome.error,
    });
  }
  return {
    json: { dryRun, entries: results, global: plan.global },
    text: render(results, plan.global, dryRun),
    failed: results.some((r) => r.error !== null),
  };
}

function planFrom(file: string, read: (text: string) => ImportPlan): ImportPlan {
  const text = readTextFile(file);
  try {
    return read(text);
  } catch (err) {
    if (err instanceof RcSyntaxError) throw new CommandError(`${file}: ${err.message}`);
    throw err;
  }
}

const OPTIONS = {
  owner: {
    type: 'string',
    value: 'ADDRESS',
    description: 'the local account that receives the mail (fetchmail: unless "is NAME here" names another); required',
  },
  'dry-run': { type: 'boolean', description: 'create nothing: print what would be created' },
} as const;

const ownerOption = (input: CommandInput): string => {
  const owner = input.options.string('owner');
  if (!owner || !owner.includes('@'))
    throw new CommandError('--owner ADDRESS is required: the local account that receives the mail, e.g. --owner alice@example.com');
  return owner;
};

const EXIT_NOTE =
  'Every option without an equivalent is listed, per entry. Exits 1 when an entry could not be (or, with --dry-run, cannot be) created.';

export const importCommands: Command[] = [
  {
    words: ['import', 'fetchmailrc'],
    summary: `Creates an external account for each user of each poll entry of a .fetchmailrc (skip entries: disabled).\n${EXIT_NOTE}`,
    args: [{ name: 'FILE', required: true }],
    options: OPTIONS,
    needs: 'api',
    async run(input) {
      const owner = ownerOption(input);
      return runImport(
        planFrom(input.args[0], (text) => fromFetchmailrc(parseFetchmailrc(text), owner)),
        input,
      );
    },
  },
  {
    words: ['import', 'getmailrc'],
    summary: `Creates the external account of each getmailrc (one [retriever] per file).\n${EXIT_NOTE}`,
    args: [{ name: 'FILE', required: true, variadic: true }],
    options: OPTIONS,
    needs: 'api',
    async run(input) {
      const owner = ownerOption(input);
      const plans = input.args.map((file) => planFrom(file, (text) => fromGetmailrc(parseGetmailrc(text), owner, file)));
      return runImport({ entries: plans.flatMap((p) => p.entries), global: plans.flatMap((p) => p.global) }, input);
    },
  },
];
