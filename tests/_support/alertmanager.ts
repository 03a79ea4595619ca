/**
 * Test support: Debian's Alertmanager and a webhook receiver, as the alerting benchmark starts
 * them (bench/_alertmanager.ts).
 */
export * from "../../bench/_alertmanager.ts";
