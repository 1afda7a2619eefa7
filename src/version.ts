/** The Switchyard release version, printed by `switchyard version`. */
export const VERSION = "0.1.0";

/** The sing-box configuration format version this build follows (spec sing-box.md §0). */
export const SING_BOX_COMPAT = "1.12";
