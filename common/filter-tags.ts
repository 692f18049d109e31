/**
 * Tags (MediaObject.addTag) through which the Magic Mirror app asks the built-in engine for more
 * than KMS does. KMS keeps tags without reading them, so an app that sets them runs unchanged on
 * a real KMS (with KMS's behaviour); a plain Kurento app that does not set them gets KMS's
 * behaviour from the engine too.
 */

/** On a FaceOverlayFilter, 'on': the hat tilts with the head (face landmarks give its roll). */
export const TILT_TAG = 'magic-mirror.tilt';
