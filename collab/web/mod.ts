/**
 * The web dashboard of a session, served by the collab server: the handler of `/` and its assets
 * (bundled in memory with esbuild from `browser/`, the page's code), the channels' labels
 * (`/channels`) and the `/api/*` proxy to the scan service.
 */
export {
  type DashboardHandler,
  dashboardHttp,
  type DashboardHttpOptions,
} from "./dashboard_http.ts";
export { DASHBOARD_ENTRY, type DashboardBundle, dashboardBundle } from "./bundle.ts";
export { API_PREFIX, type ApiProxyOptions, proxyApi } from "./api_proxy.ts";
export { CHANNEL_LIST_PATH, ChannelList, type ChannelListOptions } from "./channel_list.ts";
export { DASHBOARD_HTML, dashboardHtml } from "./page_html.ts";
export {
  type DeclaredFinding,
  declaredFindings,
  declaredFindingsTag,
  registerDeclaredFindings,
} from "./declared_findings.ts";
