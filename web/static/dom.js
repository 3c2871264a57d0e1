// Small DOM helpers shared by the shell and the views. Everything from the API goes
// into the page as text (textContent, text nodes, attributes), never as HTML: the
// page's Content-Security-Policy enforces Trusted Types, so an HTML string assigned to
// the DOM would throw.

export const $ = (id) => document.getElementById(id);

/**
 * Builds an element; string children become text nodes, never HTML. props: class,
 * text, on<event> (a listener), anything else an attribute (true = present, null,
 * undefined and false = absent).
 */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) e.append(c);
  return e;
}

/** A message as a sentence: capitalised, ending in a full stop. */
export function sentence(s) {
  const t = String(s || '').trim();
  if (!t) return '';
  const c = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(c) ? c : `${c}.`;
}

/**
 * Shows a loading, empty or error state in box (an error with a Retry button when
 * onRetry is given); kind null hides the box.
 */
export function showState(box, kind, message, onRetry) {
  if (!kind) {
    box.hidden = true;
    box.replaceChildren();
    box.removeAttribute('role');
    box.removeAttribute('data-kind');
    box.removeAttribute('aria-busy');
    return;
  }
  box.hidden = false;
  box.dataset.kind = kind;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  if (kind === 'loading') box.setAttribute('aria-busy', 'true');
  else box.removeAttribute('aria-busy');
  const parts = [el('p', { class: 'state-message', text: message })];
  if (kind === 'error' && onRetry) {
    parts.push(el('button', { type: 'button', class: 'button small retry', onclick: onRetry, text: 'Retry' }));
  }
  box.replaceChildren(...parts);
}
