/** The Snapshot button's work: the mirror's current frame, downloaded as a PNG. */

/**
 * Saves what the mirror <video> shows now — flipped, as the page shows it (styles.css mirrors
 * both videos) — as magic-mirror-<date>-<time>.png. False if there is no frame yet.
 */
export async function saveSnapshot(video: HTMLVideoElement): Promise<boolean> {
  const { videoWidth: width, videoHeight: height } = video;
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !width) return false;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d')!;
  ctx.translate(width, 0);
  ctx.scale(-1, 1);
  ctx.drawImage(video, 0, 0, width, height);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  if (!blob) return false;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = `magic-mirror-${timestamp(new Date())}.png`;
  link.click();
  // The download reads the blob asynchronously: give it time before letting go.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}

/** 2025-01-31-134502, local time. */
function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}
