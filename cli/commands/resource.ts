import type { ApiClient } from '../api-client';
import type { ArgSpec, Command, ParsedOptions } from '../command';
import { fields } from '../output';

/** A kind of object the API manages, as the show, enable and disable commands need it. */
export interface Resource<T extends { id: string }> {
  /** the command group and the API path segment, e.g. "external-accounts" */
  group: string;
  arg: ArgSpec;
  find(api: ApiClient, key: string): Promise<T>;
  describe(item: T): string;
}

export function showCommand<T extends { id: string }>(resource: Resource<T>, summary: string): Command {
  return {
    words: [resource.group, 'show'],
    summary,
    args: [resource.arg],
    needs: 'api',
    async run({ args, api }) {
      const item = await resource.find(api(), args[0]);
      return { json: item, text: fields({ ...item }) };
    },
  };
}

/** `enable` and `disable`: a PATCH of `enabled`, and the object as it is then. */
export function enableCommands<T extends { id: string }>(resource: Resource<T>, summaries: { enable: string; disable: string }): Command[] {
  return [true, false].map((enabled) => ({
    words: [resource.group, enabled ? 'enable' : 'disable'],
    summary: enabled ? summaries.enable : summaries.disable,
    args: [resource.arg],
    needs: 'api',
    async run({ args, api }) {
      const item = await resource.find(api(), args[0]);
      const updated = await api().patch<T>(`/api/${resource.group}/${item.id}`, { enabled });
      return { json: updated, text: resource.describe(updated) };
    },
  }));
}

/** `delete`: a DELETE of the object; `query` adds what the API needs to know (a flag of the command's options). */
export function deleteCommand<T extends { id: string }>(
  resource: Resource<T> & { label(item: T): string },
  summary: string,
  extra: Pick<Command, 'options'> & { query?: (options: ParsedOptions) => string } = {},
): Command {
  return {
    words: [resource.group, 'delete'],
    summary,
    args: [resource.arg],
    options: extra.options,
    needs: 'api',
    async run({ args, options, api }) {
      const item = await resource.find(api(), args[0]);
      await api().delete(`/api/${resource.group}/${item.id}${extra.query?.(options) ?? ''}`);
      return { json: { deleted: item.id }, text: `deleted ${resource.label(item)} (${item.id})` };
    },
  };
}
