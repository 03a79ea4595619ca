/**
 * OTLP/HTTP's answer to a metrics export, `ExportMetricsServiceResponse`
 * (collector/metrics/v1/metrics_service.proto): empty when everything sent was kept; else its
 * `partial_success`, how many data points were not kept (`rejected_data_points`) and why
 * (`error_message`), which OTLP asks a server to send with its 200 when it keeps less than it was
 * sent; with no point rejected, a message is a warning. In protobuf, or in OTLP's JSON mapping
 * (`{"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"…"}}`, an int64 as a string).
 */
import { LEN, ProtoReader, ProtoWriter, VARINT } from "./_proto.ts";

/** What an export answer says: nothing (all kept), or what was not kept and why. */
export interface OtlpPartialSuccess {
  rejectedDataPoints: number;
  errorMessage: string;
}

/** Encodes the answer in protobuf (`json` false) or JSON. */
export function encodeOtlpMetricsResponse(
  partial: OtlpPartialSuccess | undefined,
  json: boolean,
): Uint8Array {
  if (json) {
    const body = partial === undefined ? {} : {
      partialSuccess: {
        rejectedDataPoints: String(partial.rejectedDataPoints),
        errorMessage: partial.errorMessage,
      },
    };
    return new TextEncoder().encode(JSON.stringify(body));
  }
  const w = new ProtoWriter();
  if (partial !== undefined) {
    w.message(1, (p) => {
      p.key(1, VARINT);
      p.varint(partial.rejectedDataPoints);
      p.string(2, partial.errorMessage);
    });
  }
  return w.finish();
}

/** Decodes an answer in protobuf (what an OTLP exporter reads); undefined when it is empty. */
export function decodeOtlpMetricsResponse(bytes: Uint8Array): OtlpPartialSuccess | undefined {
  const r = new ProtoReader(bytes);
  let out: OtlpPartialSuccess | undefined;
  while (r.pos < r.end) {
    const key = r.key("ExportMetricsServiceResponse");
    if (key !== (1 << 3 | LEN)) {
      r.skip(key & 7, "ExportMetricsServiceResponse");
      continue;
    }
    const start = r.len("partial_success");
    const p = new ProtoReader(bytes, start, r.pos);
    out = { rejectedDataPoints: 0, errorMessage: "" };
    while (p.pos < p.end) {
      const k = p.key("partial_success");
      if (k === (1 << 3 | VARINT)) out.rejectedDataPoints = p.varint("rejected_data_points");
      else if (k === (2 << 3 | LEN)) {
        const s = p.len("error_message");
        out.errorMessage = p.string("error_message", s, p.pos);
      } else p.skip(k & 7, "partial_success");
    }
  }
  return out;
}
