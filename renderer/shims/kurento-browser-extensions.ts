/** Stand-in for kurento-utils' optional screen-sharing module: see renderer/vite.config.ts. */
export {};
