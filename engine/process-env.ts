/** Environment the engine process needs from whoever spawns it; no imports, so the app's main process can use it without loading the engine. */

/**
 * glibc malloc settings for the engine process (set only where the environment has none).
 * Without them the engine's RSS crept up ~0.3 MB per mirror session started and stopped
 * (bench/soak.ts: +95 MB over 150 cycles with the JS heap flat at ~9 MB): glibc raises its mmap
 * threshold after the first large free, after which frame-sized buffers (115–460 KB decoded
 * frames, overlay copies, detector inputs), allocated and freed on many threads, fragment the
 * arenas. A fixed threshold keeps them in mmap, returned to the OS on free: RSS then stayed
 * within ±20 MB of its working size over 200 cycles, with no CPU difference measurable on a busy
 * machine. glibc reads these at process start, so whoever spawns the engine must pass them
 * (startEngine and the app's main/engine-host/launch-node-engine.ts both do).
 */
export const ENGINE_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072' };
