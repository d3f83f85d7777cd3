/**
 * The demo's whole "framework": `h()` builds elements, `patchKeyed()` updates a list in place by key, and
 * `region()` rebuilds a container only when its signature changed. Rebuilding little keeps focus, selection
 * and scroll positions where the user left them.
 */

/** What `h()` accepts as a child; falsy values are skipped, arrays are flattened. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Handler = (event: Event) => void;

/** Element attributes and properties; `on*` functions become listeners. */
export type Props = Record<string, unknown>;

/** Creates an element. `class`, `for`, `aria-*`, `data-*` are attributes; `value`, `checked`, `disabled` properties. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) applyProps(el, props);
  append(el, children);
  return el;
}

/** Appends children (strings become text nodes). */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'indeterminate', 'open']);

function applyProps(el: HTMLElement, props: Props): void {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value as Handler);
    } else if (PROPERTIES.has(key)) {
      (el as unknown as Record<string, unknown>)[key] = value;
    } else if (key === 'class') {
      el.className = String(value);
    } else if (key === 'style') {
      // Through the CSSOM, which the page's Content-Security-Policy allows (a style attribute it blocks).
      for (const rule of String(value).split(';')) {
        const colon = rule.indexOf(':');
        if (colon > 0) el.style.setProperty(rule.slice(0, colon).trim(), rule.slice(colon + 1).trim());
      }
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/** One item of a keyed list: rebuilt only when `sig` changes. */
export interface KeyedItem {
  key: string;
  /** Everything the rendering depends on, as a string. */
  sig: string;
  render(): HTMLElement;
}

/**
 * Makes `parent`'s children match `items`, reusing elements whose key and signature are unchanged and moving
 * them only when the order changed.
 */
export function patchKeyed(parent: HTMLElement, items: readonly KeyedItem[]): void {
  const wanted = new Set(items.map((item) => item.key));
  const existing = new Map<string, HTMLElement>();
  for (const child of [...parent.children] as HTMLElement[]) {
    const key = child.dataset.key;
    if (key !== undefined && wanted.has(key) && !existing.has(key)) existing.set(key, child);
    else child.remove();
  }
  items.forEach((item, index) => {
    let el = existing.get(item.key);
    if (el && el.dataset.sig !== item.sig) {
      const fresh = build(item);
      el.replaceWith(fresh);
      el = fresh;
    }
    el ??= build(item);
    const at = parent.children[index] ?? null;
    if (at !== el) parent.insertBefore(el, at);
  });
}

function build(item: KeyedItem): HTMLElement {
  const el = item.render();
  el.dataset.key = item.key;
  el.dataset.sig = item.sig;
  return el;
}

const regionSigs = new WeakMap<Element, string>();

/** Rebuilds `container`'s content when `sig` differs from the last render; keeps focus on a same-id element. */
export function region(container: HTMLElement, sig: string, render: () => Child): void {
  if (regionSigs.get(container) === sig) return;
  regionSigs.set(container, sig);
  const focusedId = container.contains(document.activeElement) ? document.activeElement?.id : undefined;
  container.replaceChildren();
  append(container, [render()]);
  if (focusedId) document.getElementById(focusedId)?.focus();
}

/** Forgets a region's signature so the next `region()` call rebuilds it. */
export function invalidate(container: HTMLElement): void {
  regionSigs.delete(container);
}
