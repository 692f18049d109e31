/**
 * Tags (MediaObject.addTag) through which the Magic Mirror app asks the built-in engine for more
 * than KMS does. KMS keeps tags without reading them, so an app that sets them runs unchanged on
 * a real KMS (with KMS's behaviour); a plain Kurento app that does not set them gets KMS's
 * behaviour from the engine too.
 */

/** On a FaceOverlayFilter, 'on': the hat tilts with the head (face landmarks give its roll). */
export const TILT_TAG = 'magic-mirror.tilt';

/**
 * On a FaceOverlayFilter, 'eyes': the image follows each face's eyes (glasses, masks) —
 * setOverlayedImage's numbers, fractions of the face box as KMS reads them, are moved and
 * scaled from a typical face's eyes onto the real ones, and the image turns with them. Absent
 * or 'face': KMS's placement on the face box. On KMS the tag is ignored and the image sits
 * where a typical face's eyes are.
 */
export const ANCHOR_TAG = 'magic-mirror.anchor';

/**
 * On a FaceOverlayFilter: more images, space-separated URIs (as setOverlayedImage takes): the
 * faces take turns — the first face gets setOverlayedImage's image, the next this list's first,
 * and so on round — so each face its own hat; all are placed with setOverlayedImage's numbers.
 * An image that cannot be loaded is reported by the filter's Error event and skipped.
 */
export const EACH_FACE_TAG = 'magic-mirror.each-face';
