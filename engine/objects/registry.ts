/**
 * The live objects of the engine and the event subscriptions on them. It is the
 * ObjectHost every object reports to: events go out to the sessions that subscribed.
 */
import { randomUUID } from 'node:crypto';
import { KurentoError } from '../protocol/errors.js';
import { FACTORIES } from '../elements/factories.js';
import { ServerManagerImpl, SERVER_MANAGER_ID } from '../elements/server-manager.js';
import { kmd } from './kmd.js';
import { RtcPeer } from '../media/rtc-peer.js';
import { detectionService } from '../vision/detection-service.js';
import type { MediaObjectImpl, ObjectHost } from './media-object.js';

export interface EventSink {
  /** Sends an onEvent notification to the session that subscribed. */
  deliver(sessionId: string, message: object): void;
}

interface Subscription {
  id: string;
  objectId: string;
  type: string;
  sessionId: string;
}

export class ObjectRegistry implements ObjectHost {
  private readonly objects = new Map<string, MediaObjectImpl>();
  /** Which session created each object (sessions that expire release what they made). */
  private readonly creators = new Map<string, string>();
  private readonly subscriptions = new Map<string, Subscription>();
  /** `${objectId}\n${eventType}` → subscription ids. */
  private readonly byTarget = new Map<string, Set<string>>();
  readonly serverManager: ServerManagerImpl;

  constructor(
    private readonly sink: EventSink,
    readonly log: (line: string) => void,
    sessionIds: () => string[],
  ) {
    this.serverManager = new ServerManagerImpl(this, {
      pipelineIds: () => [...this.objects.values()].filter((o) => o.typeName === 'MediaPipeline').map((o) => o.id),
      sessionIds,
      counts: () => ({
        objects: this.size,
        pipelines: [...this.objects.values()].filter((o) => o.typeName === 'MediaPipeline').length,
        sessions: sessionIds().length,
        subscriptions: this.subscriptions.size,
        peerConnections: RtcPeer.openCount,
        detections: detectionService().stats.detections,
        detectionMsTotal: Math.round(detectionService().stats.totalMs),
        detectorDuty: Math.round(detectionService().duty * 100) / 100,
        staleFramesDropped: RtcPeer.staleFramesDropped,
        detector: detectionService().state,
      }),
    });
    this.objects.set(SERVER_MANAGER_ID, this.serverManager);
  }

  get(id: string): MediaObjectImpl | undefined {
    return this.objects.get(id);
  }

  /** Like get, but answers 40101 as KMS does for an unknown id. */
  require(id: unknown): MediaObjectImpl {
    const obj = typeof id === 'string' ? this.objects.get(id) : undefined;
    if (!obj) throw new KurentoError('MEDIA_OBJECT_NOT_FOUND', `Object '${String(id)}' not found`);
    return obj;
  }

  /** Number of live objects, the ServerManager excluded. */
  get size(): number {
    return this.objects.size - 1;
  }

  /** Live objects of one type (e.g. WebRtcEndpoint: each holds a peer connection and its threads). */
  countOfType(typeName: string): number {
    let n = 0;
    for (const o of this.objects.values()) if (o.typeName === typeName) n++;
    return n;
  }

  countCreatedBy(sessionId: string): number {
    let n = 0;
    for (const s of this.creators.values()) if (s === sessionId) n++;
    return n;
  }

  create(type: unknown, constructorParams: unknown, properties: unknown, sessionId: string): MediaObjectImpl {
    const registry = kmd();
    const params = typeof type === 'string' ? registry.constructorParams(type) : undefined;
    if (typeof type !== 'string' || params === undefined) {
      throw new KurentoError('MEDIA_OBJECT_NOT_AVAILABLE', `Factory '${String(type)}' not found`);
    }
    const factory = FACTORIES[type];
    if (!factory) throw new KurentoError('NOT_IMPLEMENTED', `'${type}' is not implemented by the Magic Mirror engine`);
    const marshalled = registry.marshalParams(params, constructorParams, (id) => this.objects.get(id));
    const pipeline = marshalled.mediaPipeline ? this.objects.get(marshalled.mediaPipeline as string) : undefined;
    const obj = factory(this, pipeline, marshalled);
    if (properties && typeof properties === 'object') {
      for (const [name, value] of Object.entries(properties)) obj.setProperty(name, value);
    }
    this.objects.set(obj.id, obj);
    this.creators.set(obj.id, sessionId);
    this.log(`created ${obj.id}`);
    this.serverManager.raise('ObjectCreated', { object: obj.id });
    return obj;
  }

  /** Releases an object and everything below it; unknown ids are ignored, as in KMS. */
  release(id: string): void {
    const obj = this.objects.get(id);
    if (!obj || obj === this.serverManager) return;
    const doomed: MediaObjectImpl[] = [];
    const collect = (o: MediaObjectImpl) => {
      doomed.push(o);
      o.children.forEach(collect);
    };
    collect(obj);
    obj.release();
    for (const o of doomed) {
      this.objects.delete(o.id);
      this.creators.delete(o.id);
      for (const [subId, sub] of this.subscriptions) if (sub.objectId === o.id) this.unsubscribe(subId);
      this.log(`released ${o.id}`);
      this.serverManager.raise('ObjectDestroyed', { objectId: o.id });
    }
  }

  /** Releases what a session created (its pipelines first; their elements go with them). */
  releaseCreatedBy(sessionId: string): void {
    const mine = [...this.creators].filter(([, s]) => s === sessionId).map(([id]) => id);
    for (const id of mine) this.release(id);
    for (const [subId, sub] of this.subscriptions) if (sub.sessionId === sessionId) this.unsubscribe(subId);
  }

  releaseAll(): void {
    for (const o of [...this.objects.values()]) if (!o.parent) this.release(o.id);
  }

  subscribe(objectId: unknown, type: unknown, sessionId: string): string {
    const obj = this.require(objectId);
    if (typeof type !== 'string' || !kmd().eventsOf(obj.typeName).has(type)) {
      throw new KurentoError('MEDIA_OBJECT_EVENT_NOT_SUPPORTED', `Event '${String(type)}' not supported by '${obj.typeName}'`);
    }
    const sub: Subscription = { id: randomUUID(), objectId: obj.id, type, sessionId };
    this.subscriptions.set(sub.id, sub);
    const key = `${obj.id}\n${type}`;
    let set = this.byTarget.get(key);
    if (!set) this.byTarget.set(key, (set = new Set()));
    set.add(sub.id);
    return sub.id;
  }

  unsubscribe(subscriptionId: unknown): void {
    const sub = typeof subscriptionId === 'string' ? this.subscriptions.get(subscriptionId) : undefined;
    if (!sub) return;
    this.subscriptions.delete(sub.id);
    const key = `${sub.objectId}\n${sub.type}`;
    const set = this.byTarget.get(key);
    set?.delete(sub.id);
    if (set?.size === 0) this.byTarget.delete(key);
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  raise(source: MediaObjectImpl, type: string, data: Record<string, unknown>): void {
    const ids = this.byTarget.get(`${source.id}\n${type}`);
    if (!ids) return;
    for (const id of ids) {
      const sub = this.subscriptions.get(id)!;
      this.sink.deliver(sub.sessionId, {
        jsonrpc: '2.0',
        method: 'onEvent',
        params: { value: { data, object: source.id, type } },
      });
    }
  }
}
