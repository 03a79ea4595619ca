// Applies the `troupe` command's heap flags once the main isolate is made (heap_flags.mjs): what a
// benchmark's child process on Node is preloaded with (`--import`), as cli/troupe.mjs runs it.
import { applyHeapFlags } from "./heap_flags.mjs";

applyHeapFlags();
