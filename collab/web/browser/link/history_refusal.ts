/**
 * A history request the page itself refuses before sending it (the checks the service would make,
 * `checkHistoryRequest`): asking again can never succeed, so the card says why and does not retry.
 */
export class HistoryRefusal extends Error {
  override name = "HistoryRefusal";
}
