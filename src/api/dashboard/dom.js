// Tiny DOM helpers. Every value from the API goes in through textContent or setAttribute,
// never innerHTML: job ids, messages and stacks come from producers and are not trusted.

/** Creates an element: h('td', { class: 'x', text: 'y', onclick: fn }, ...children). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

/** Creates an SVG element with attributes. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setProps(el, attrs);
  append(el, children);
  return el;
}

function setProps(el, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(4)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof window.Node ? child : String(child));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A paragraph saying there is nothing here, and what to do about it. */
export function empty(title, advice) {
  return h('div', { class: 'empty' }, h('strong', { text: title }), advice ? h('p', { text: advice }) : null);
}

/** A message for a failed request, kept on screen until the next success. */
export function errorBox(err) {
  return h('div', { class: 'error-box', role: 'alert' }, h('strong', { text: 'Could not load: ' }), String(err && err.message ? err.message : err));
}
