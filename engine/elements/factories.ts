/**
 * The types `create` can build, grouped by the kmd module that defines them (ServerManager's
 * getInfo reports them so apps can tell what this server has). Every other kmd class answers
 * 40006 NOT_IMPLEMENTED on create: recording, players, hubs and the like are not built.
 */
import { createRequire } from 'node:module';
import type { MediaObjectImpl, ObjectHost } from '../objects/media-object.js';
import { FaceOverlayFilterImpl } from './face-overlay-filter.js';
import { MediaPipelineImpl } from './media-pipeline.js';
import { PassThroughImpl } from './pass-through.js';
import { WebRtcEndpointImpl } from './webrtc-endpoint.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { name: string; version: string };

export const ENGINE_MODULE = { name: 'magicmirror-engine', version: pkg.version };

export type Factory = (host: ObjectHost, pipeline: MediaObjectImpl | undefined, params: Record<string, unknown>) => MediaObjectImpl;

export const FACTORIES: Record<string, Factory> = {
  MediaPipeline: (host) => new MediaPipelineImpl(host),
  PassThrough: (host, pipeline) => new PassThroughImpl(host, pipeline!),
  WebRtcEndpoint: (host, pipeline, params) => new WebRtcEndpointImpl(host, pipeline!, params),
  FaceOverlayFilter: (host, pipeline) => new FaceOverlayFilterImpl(host, pipeline!),
};

export const FACTORIES_BY_MODULE: Record<string, string[]> = {
  core: ['MediaPipeline', 'PassThrough'],
  elements: ['WebRtcEndpoint'],
  filters: ['FaceOverlayFilter'],
};
