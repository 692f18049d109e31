/** Environment the engine process needs from whoever spawns it; no imports, so the app's main process can use it without loading the engine. */

/**
 * glibc malloc settings for the engine process (set only where the environment has none).
 * - A fixed mmap threshold: left dynamic, glibc raises it after the first large free, after
 *   which frame-sized buffers allocated and freed on many threads fragment the arenas; the
 *   engine's RSS then crept up ~0.3 MB per mirror session started and stopped (bench/soak.ts:
 *   +95 MB over 150 cycles with the JS heap flat at ~9 MB).
 * - Above a 640×480 I420 frame (460,800 bytes): at 128 KiB every decoded frame was a fresh
 *   mmap, zero-filled page by page as wrtc copied into it, and munmapped when collected. Under
 *   load that page faulting was most of the engine's JS thread (perf: 78 % of its samples in
 *   wrtc's frame copy, ~45 % of all in the kernel's fault path), which starved the sessions:
 *   4 sessions ran at 12.9–14.2 fps with it, 28.1–28.6 fps with 1 MiB (bench, same hour).
 * - Two arenas: fewer heaps for the many libwebrtc threads to spread freed frames over.
 * Soak with these: RSS flat (medians of the last vs the first tenth −0.6 MB over 200 cycles at
 * 320×240, +2.5 MB over 150 at 640×480; 0 leaks). glibc reads these at process start, so
 * whoever spawns the engine must pass them (startEngine and the app's
 * main/engine-host/launch-node-engine.ts both do).
 */
export const ENGINE_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(1024 * 1024), MALLOC_ARENA_MAX: '2' };
