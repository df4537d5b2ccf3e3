// @ts-check
/* global document, window, HTMLScriptElement, URL, URLSearchParams */
/**
 * Embeddable support chat: one script tag on any site adds a floating button
 * that opens the Switchyard chat in a frame.
 *
 *   <script src="https://gateway.example/widget.js" data-model="support-bot" async></script>
 *
 * Optional: data-collection, data-title (button label), data-position="left".
 * A classic script (not a module) so it works however the host page loads it;
 * everything is scoped in one function and styled inline, touching none of
 * the host page's globals or CSS.
 */
(() => {
  const script = document.currentScript;
  if (!(script instanceof HTMLScriptElement) || document.getElementById("switchyard-widget")) return;
  const origin = new URL(script.src).origin;
  const title = script.dataset.title || "Chat with support";
  const side = script.dataset.position === "left" ? "left" : "right";
  const query = new URLSearchParams({ embed: "1" });
  if (script.dataset.model) query.set("model", script.dataset.model);
  if (script.dataset.collection) query.set("collection", script.dataset.collection);

  const root = document.createElement("div");
  root.id = "switchyard-widget";
  Object.assign(root.style, { position: "fixed", bottom: "20px", [side]: "20px", zIndex: "2147483000", fontFamily: "system-ui, sans-serif" });

  const panelId = "switchyard-widget-panel";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = title;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", panelId);
  Object.assign(button.style, {
    padding: "12px 18px",
    border: "0",
    borderRadius: "999px",
    background: "#2f5bd3",
    color: "#fff",
    font: "600 15px system-ui, sans-serif",
    boxShadow: "0 6px 20px rgba(16, 24, 40, 0.25)",
    cursor: "pointer",
  });

  const panel = document.createElement("div");
  panel.id = panelId;
  panel.hidden = true;
  Object.assign(panel.style, {
    position: "absolute",
    bottom: "60px",
    [side]: "0",
    width: "min(400px, calc(100vw - 40px))",
    height: "min(600px, calc(100vh - 110px))",
    borderRadius: "14px",
    overflow: "hidden",
    boxShadow: "0 12px 40px rgba(16, 24, 40, 0.3)",
    background: "#fff",
  });

  /** Created on first open: a closed widget costs the host page no frame. */
  let frame = /** @type {HTMLIFrameElement | null} */ (null);
  const setOpen = (/** @type {boolean} */ open) => {
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.src = `${origin}/?${query}`;
      frame.title = title;
      frame.setAttribute("allow", "clipboard-write");
      Object.assign(frame.style, { width: "100%", height: "100%", border: "0" });
      panel.append(frame);
    }
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "Close chat" : title;
    if (open) frame?.focus();
  };
  button.addEventListener("click", () => setOpen(panel.hidden));
  const close = () => {
    if (panel.hidden) return;
    setOpen(false);
    button.focus();
  };
  window.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  // Escape pressed inside the frame: the chat page asks to be closed.
  window.addEventListener("message", (event) => {
    const data = /** @type {unknown} */ (event.data);
    if (event.origin === origin && event.source === frame?.contentWindow && typeof data === "object" && data !== null && "type" in data && data.type === "switchyard:close") close();
  });

  root.append(panel, button);
  const mount = () => document.body.append(root);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
})();
