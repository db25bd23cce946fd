import type { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (the proto package is not a dependency of ours) */
const KEYWORD = 2;

type Operator = Pick<NativeConnection['operatorService'], 'listSearchAttributes' | 'addSearchAttributes'>;

/**
 * Registers the account workflow's search attributes in the namespace where they are missing.
 * A workflow that sets an unregistered one fails every workflow task, so the worker does not
 * start without them: where it may not register them (a cluster without operator rights), it
 * stops with the command an operator runs instead.
 */
export async function ensureSearchAttributes(operator: Operator, namespace: string): Promise<void> {
  const { customAttributes } = await operator.listSearchAttributes({ namespace });
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((key) => !customAttributes?.[key.name]);
  if (missing.length === 0) return;
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((key) => [key.name, KEYWORD])) });
  } catch (err) {
    const flags = missing.map((key) => `--name ${key.name} --type Keyword`).join(' ');
    throw new Error(
      `the search attributes ${missing.map((k) => k.name).join(', ')} are not registered in namespace "${namespace}" and could not be ` +
        `registered (${err instanceof Error ? err.message : String(err)}); run: temporal operator search-attribute create --namespace ${namespace} ${flags}`,
      { cause: err },
    );
  }
}
