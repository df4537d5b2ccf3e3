/** The browser front end (chat, operator console, embeddable widget) as Hono routes. */
export { uiRoutes, type UiRoutesOptions } from "./ui-routes.js";
export { loadAssets, defaultAssetDirs, type Asset } from "./asset-store.js";
