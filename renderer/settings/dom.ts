/**
 * A small DOM builder for the Settings dialog: elements with properties, attributes and
 * children, and the line icons the page uses. No inline styles and no HTML strings, so the
 * page's CSP (style-src 'self', no inline scripts) holds.
 */
type Child = Node | string | false | null | undefined;

export interface ElementProps {
  class?: string;
  id?: string;
  text?: string;
  attrs?: Record<string, string | boolean | undefined>;
  dataset?: Record<string, string>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps & Partial<Omit<HTMLElementTagNameMap[K], keyof ElementProps | 'style'>> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  const { class: className, id, text, attrs, dataset, ...rest } = props;
  if (className) el.className = className;
  if (id) el.id = id;
  if (text !== undefined) el.textContent = text;
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === true) el.setAttribute(name, '');
    else if (typeof value === 'string') el.setAttribute(name, value);
  }
  Object.assign(el.dataset, dataset);
  Object.assign(el, rest);
  for (const child of children) if (child) el.append(child);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

/** A 24×24 line icon (class "icon", styled by styles.css) from path data. */
export function icon(paths: readonly string[], className = 'icon'): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  for (const d of paths) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

export const ICONS = {
  gear: [
    'M12 15.2a3.2 3.2 0 1 0 0-6.4 3.2 3.2 0 0 0 0 6.4Z',
    'M19.4 13.5a7.7 7.7 0 0 0 0-3l2-1.6-2-3.4-2.4 1a7.6 7.6 0 0 0-2.6-1.5L14 2.5h-4l-.4 2.5A7.6 7.6 0 0 0 7 6.5l-2.4-1-2 3.4 2 1.6a7.7 7.7 0 0 0 0 3l-2 1.6 2 3.4 2.4-1a7.6 7.6 0 0 0 2.6 1.5l.4 2.5h4l.4-2.5a7.6 7.6 0 0 0 2.6-1.5l2.4 1 2-3.4Z',
  ],
  close: ['M6 6l12 12M18 6 6 18'],
  plug: ['M9 3v5M15 3v5M6.5 8h11v3.5a5.5 5.5 0 0 1-11 0Z', 'M12 17v4'],
  check: ['m5 12.5 4.5 4.5L19 7.5'],
  warning: ['M12 3 2.5 20h19L12 3Z', 'M12 10v4.5M12 17.2v.1'],
  info: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z', 'M12 11v5M12 7.8v.1'],
  upload: ['M12 16V4M7 9l5-5 5 5', 'M4 16v4h16v-4'],
} as const;
