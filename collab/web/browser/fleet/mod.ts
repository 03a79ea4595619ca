/**
 * The dashboard's view of a fleet: every channel's labels, score and open incidents, the order
 * and groups its cards are shown in (with the groups' headers), the filter box's language and how
 * a series is named, the grid's slots whose cards are built only near the screen, and its cards'
 * widths.
 */
export { CHANNEL_INDEX_LIMITS, ChannelIndex, OUT_HOLD_US } from "./channel_index.ts";
export { type ChannelFilter, NO_FILTER, parseChannelFilter } from "./channel_filter.ts";
export { type ChannelFacts, type ChannelGroup, orderChannels } from "./order_channels.ts";
export { GroupHeads, setOrder, UNGROUPED_TITLE } from "./group_heads.ts";
export { groupKey, seriesName } from "./series_name.ts";
export { CardSlots, SLOT_LIMITS } from "./card_slots.ts";
export { CardWidths } from "./card_widths.ts";
