/**
 * The bounds of setOverlayedImage's four numbers (fractions of the face box, despite their
 * names): the settings dialog refuses values outside them, and the engine refuses such a call.
 * Generous — a hat may sit a few faces away and be several faces wide — but finite, so a
 * placement can never ask for a sprite of billions of pixels.
 */
export const OVERLAY_OFFSET_LIMIT = { min: -10, max: 10 } as const;
/** 0 is KMS's "draw nothing"; the app's own settings start at 0.01 (SETTING_SCHEMAS). */
export const OVERLAY_SIZE_LIMIT = { min: 0, max: 10 } as const;
