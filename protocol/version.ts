/** troupe's version: in recordings' headers, `troupe --version` and the envelope sources. */
export const TROUPE_VERSION = "0.1.0";
