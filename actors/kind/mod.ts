/**
 * The public door for actor kinds: `defineKind` for a kind written against troupe's library
 * (a configuration schema, a pure kernel, its findings, an optional machine), `registerKind` for
 * a full ActorDefinition (troupe's own kinds come in through it), the counter-based
 * randomness a kernel may draw, and what troupe's own kinds hold in a host's memory.
 */
export {
  type BooleanField,
  type ConfigField,
  type ConfigOf,
  type ConfigSchema,
  defaultConfigOf,
  NAMES_MAX,
  type NamesField,
  type NumberField,
  parseConfigOf,
  type StringField,
} from "./config_schema.ts";
export {
  defineKind,
  type Finding,
  type KindKernel,
  type KindSpec,
  type StepContext,
  type StepOutput,
} from "./define_kind.ts";
export {
  isKindDefinition,
  KIND_MODULES_MAX,
  kindsOfModule,
  type LoadedKinds,
  loadKindModules,
} from "./load_kinds.ts";
export { kindRegistry, KINDS_MAX, registerKind } from "./register_kind.ts";
export { channelHash, sampleRandom } from "./sample_random.ts";
export {
  ANOMALY_KERNEL_BYTES_GROWN,
  anomalyHeldBytes,
  COHERENCE_MEMBER_BYTES,
  COHERENCE_PAIR_BYTES,
  coherenceGroupBytes,
  collapseHeldBytes,
  FOUR_KINDS_BYTES_MEASURED,
  KERNEL_BYTES_MEASURED,
  MACHINERY_BYTES,
  statsHeldBytes,
} from "./held_bytes.ts";
