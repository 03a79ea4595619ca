/**
 * The panels beside the charts (annotations, checklist, coherence, events, incidents, presence,
 * scans, thresholds, units), the layout's controls and store, the range picker, and the notes a
 * read-only or refused page shows.
 */
export { AnnotationsPanel } from "./annotations_panel.ts";
export { ChecklistPanel } from "./checklist_panel.ts";
export { CoherencePanel } from "./coherence_panel.ts";
export { EventsPanel } from "./events_panel.ts";
export { IncidentsPanel } from "./incidents_panel.ts";
export { LayoutControls } from "./layout_controls.ts";
export { LayoutStore } from "./layout_store.ts";
export { PresencePanel } from "./presence_panel.ts";
export { RangePicker } from "./range_picker.ts";
export { markReadOnly } from "./readonly_note.ts";
export { showRefused } from "./refused_notice.ts";
export { ScanPanel } from "./scan_panel.ts";
export { FILTER_PAUSE_MS, FilterBox, type FilterTarget } from "./filter_box.ts";
export { ThresholdsPanel } from "./thresholds_panel.ts";
export { UnitControls } from "./unit_controls.ts";
