/** The control stream: control messages kept in JetStream, which a host reads on start. */
export {
  CONTROL_STREAM,
  type ControlSource,
  type ControlStreamOptions,
  controlStreamSource,
  ensureControlStream,
} from "./control_stream.ts";
