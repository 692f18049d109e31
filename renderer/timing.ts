/**
 * Where a Start's time goes, as User Timing marks (performance.mark) on the page's own clock:
 * cheap, visible in any browser's performance panel, and read by the browser bench
 * (bench/browser.ts), so the phases it reports are the page's own steps, not guesses.
 * Each Start clears the previous Start's marks.
 */

/** The marks of one Start, in the order they usually happen. */
export const START_MARKS = {
  /** Start was pressed. */
  start: 'mirror:start',
  /** The camera (getUserMedia) is open. */
  camera: 'mirror:camera',
  /** The SDP offer went to the server. */
  offer: 'mirror:offer',
  /** The server's answer (startResponse) is applied. */
  answer: 'mirror:answer',
  /** ICE reached connected. */
  ice: 'mirror:ice',
  /** The server says camera video reaches the media server (status media-in flowing). */
  serverMedia: 'mirror:server-media',
  /** The mirror <video> presented its first frame. */
  firstFrame: 'mirror:first-frame',
} as const;

export type StartMark = keyof typeof START_MARKS;

/** Begins a Start's timeline (drops the previous one's marks). */
export function markStart(): void {
  for (const name of Object.values(START_MARKS)) performance.clearMarks(name);
  performance.mark(START_MARKS.start);
}

/** Marks a step of the current Start, once (later calls for the same step are ignored). */
export function markStep(step: Exclude<StartMark, 'start'>, at?: number): void {
  const name = START_MARKS[step];
  if (performance.getEntriesByName(name, 'mark').length === 0) performance.mark(name, at === undefined ? undefined : { startTime: at });
}
