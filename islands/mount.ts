// Starts an island in the browser: finds its element and its props (a JSON script tag the
// server wrote beside it) and hydrates the server's markup, or renders when there is none.
import { type ComponentType, h, hydrate, render } from "preact";

export function mount<P>(name: string, Component: ComponentType<P>): void {
  const root = document.querySelector<HTMLElement>(`[data-island="${name}"]`);
  const propsTag = document.querySelector<HTMLScriptElement>(`script[data-props="${name}"]`);
  if (!root || !propsTag) return;
  const props = JSON.parse(propsTag.textContent ?? "{}") as P;
  const vnode = h(
    Component as ComponentType<Record<string, unknown>>,
    props as Record<string, unknown>,
  );
  if (root.dataset.ssr === "true") hydrate(vnode, root);
  else render(vnode, root);
}
