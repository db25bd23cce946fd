/** Forms: the API names the field that is wrong, and its message stands next to it. */
import { ApiFailure } from './api';
import { h, type Attrs, type Child } from './dom';

export function field(label: string, name: string, input: HTMLElement, hint?: string): HTMLElement {
  input.setAttribute('name', name);
  input.id = `field-${name}`;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: input.id }, label),
    input,
    hint ? h('small', { class: 'hint' }, hint) : null,
    h('small', { class: 'error', 'data-error-for': name }),
  );
}

export const input = (attrs: Attrs = {}): HTMLInputElement => h('input', { type: 'text', autocomplete: 'off', ...attrs });

export function select(options: [string, string][], value: string): HTMLSelectElement {
  return h('select', {}, ...options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

export const valueOf = (form: HTMLFormElement, name: string): string => (form.elements.namedItem(name) as HTMLInputElement).value;

function clearErrors(form: HTMLFormElement): void {
  form.querySelectorAll('.error').forEach((e) => (e.textContent = ''));
}

/** Puts each issue next to its field (a nested path like deletePolicy.afterDays at its first part), the rest at the form. */
export function showErrors(form: HTMLFormElement, err: unknown): void {
  clearErrors(form);
  const failure = err instanceof ApiFailure ? err : null;
  const issues = failure?.body.issues ?? (failure?.body.field ? [{ field: failure.body.field, message: failure.body.message }] : []);
  let placed = false;
  for (const issue of issues) {
    const slot =
      form.querySelector(`[data-error-for="${CSS.escape(issue.field)}"]`) ??
      form.querySelector(`[data-error-for="${CSS.escape(issue.field.split('.')[0])}"]`);
    if (slot) {
      slot.textContent = issue.message;
      placed = true;
    }
  }
  if (!placed)
    (form.querySelector('[data-error-for="form"]') as HTMLElement).textContent = err instanceof Error ? err.message : String(err);
}

export function form(submitLabel: string, onSubmit: (form: HTMLFormElement) => Promise<void>, ...fields: Child[]): HTMLFormElement {
  const el = h(
    'form',
    { novalidate: true },
    ...fields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, submitLabel)),
    h('small', { class: 'error', 'data-error-for': 'form' }),
  );
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = el.querySelector('button[type=submit]') as HTMLButtonElement;
    button.disabled = true;
    clearErrors(el);
    onSubmit(el)
      .catch((err: unknown) => showErrors(el, err))
      .finally(() => (button.disabled = false));
  });
  return el;
}
