/** The part of pngjs (which ships no types) that the vision layer and its tests use. */
declare module 'pngjs' {
  export interface PNGImage {
    width: number;
    height: number;
    /** RGBA, 8 bits a channel, whatever the file's own format. */
    data: Buffer;
  }
  export const PNG: {
    new (options: { width: number; height: number }): PNGImage;
    sync: {
      read(buffer: Buffer): PNGImage;
      write(png: PNGImage): Buffer;
    };
  };
}
