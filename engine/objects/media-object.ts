/**
 * MediaObject: what every engine object has in common — an id, a place in the
 * pipeline → element tree, name and tags, kmd properties, events — and the table of
 * operation handlers the protocol layer dispatches `invoke` to.
 */
import { randomUUID } from 'node:crypto';
import { KurentoError } from '../protocol/errors.js';
import { kmd } from './kmd.js';

export type Handler = (params: Record<string, unknown>) => unknown | Promise<unknown>;

/** What an object needs from the engine around it. */
export interface ObjectHost {
  /** Delivers an event to whoever subscribed to it. */
  raise(source: MediaObjectImpl, type: string, data: Record<string, unknown>): void;
  log(line: string): void;
}

export abstract class MediaObjectImpl {
  readonly id: string;
  readonly children = new Set<MediaObjectImpl>();
  readonly creationTime = Math.floor(Date.now() / 1000);
  released = false;
  private name: string;
  private sendTagsInEvents = false;
  private readonly tags = new Map<string, string>();
  private readonly properties = new Map<string, unknown>();
  private readonly handlers = new Map<string, Handler>();

  constructor(
    readonly typeName: string,
    readonly host: ObjectHost,
    readonly parent?: MediaObjectImpl,
    id?: string,
  ) {
    this.id = id ?? (parent ? `${parent.id}/${randomUUID()}_kurento.${typeName}` : `${randomUUID()}_kurento.${typeName}`);
    this.name = this.id;
    parent?.children.add(this);

    this.handle('getId', () => this.id);
    this.handle('getMediaPipeline', () => this.pipelineId());
    this.handle('getParent', () => this.parent?.id ?? null);
    this.handle('getChildren', () => [...this.children].map((c) => c.id));
    this.handle('getCreationTime', () => this.creationTime);
    this.handle('getName', () => this.name);
    this.handle('setName', ({ name }) => void (this.name = name as string));
    this.handle('getSendTagsInEvents', () => this.sendTagsInEvents);
    this.handle('setSendTagsInEvents', ({ sendTagsInEvents }) => void (this.sendTagsInEvents = sendTagsInEvents as boolean));
    this.handle('addTag', ({ key, value }) => void this.tags.set(key as string, value as string));
    this.handle('removeTag', ({ key }) => void this.tags.delete(key as string));
    this.handle('getTag', ({ key }) => {
      const value = this.tags.get(key as string);
      if (value === undefined) throw new KurentoError('MEDIA_OBJECT_TAG_KEY_NOT_FOUND', `Tag key '${key as string}' not found`);
      return value;
    });
    this.handle('getTags', () => this.tagList());
  }

  /** A tag's value (addTag), undefined if not set. */
  protected tag(key: string): string | undefined {
    return this.tags.get(key);
  }

  /** The id of the pipeline this object lives in (a pipeline is its own). */
  pipelineId(): string | null {
    let o: MediaObjectImpl | undefined = this;
    while (o?.parent) o = o.parent;
    return o && o.typeName === 'MediaPipeline' ? o.id : null;
  }

  protected handle(operation: string, handler: Handler): void {
    this.handlers.set(operation, handler);
  }

  /**
   * Runs a kmd operation whose params the protocol layer already marshalled. Property
   * getters and setters without a dedicated handler read and write a stored value, so apps
   * that tune properties we do not act on (bandwidths, TURN, …) keep working.
   */
  invoke(operation: string, params: Record<string, unknown>): unknown | Promise<unknown> {
    const op = kmd().operations(this.typeName).get(operation);
    if (!op) {
      throw new KurentoError('MEDIA_OBJECT_METHOD_NOT_FOUND', `Method '${operation}' not found in '${this.typeName}'`);
    }
    const handler = this.handlers.get(operation);
    if (handler) return handler(params);
    if (op.kind === 'get') return this.property(op.property.name);
    if (op.kind === 'set') {
      this.properties.set(op.property.name, params[op.property.name]);
      return null;
    }
    throw new KurentoError('NOT_IMPLEMENTED', `'${this.typeName}.${operation}' is not implemented by the Magic Mirror engine`);
  }

  /** A stored kmd property, or its default; subclasses read settings (e.g. stunServerAddress) through it. */
  property(name: string): unknown {
    if (this.properties.has(name)) return this.properties.get(name);
    const op = kmd().operations(this.typeName).get(`get${name.charAt(0).toUpperCase()}${name.slice(1)}`);
    return op?.kind === 'get' ? kmd().defaultFor(op.property) : undefined;
  }

  /** Stores a property given at creation (`properties` of a `create` request). */
  setProperty(name: string, value: unknown): void {
    this.properties.set(name, value);
  }

  tagList(): { __module__: string; __type__: string; key: string; value: string }[] {
    return [...this.tags].map(([key, value]) => kmd().tagComplex('Tag', { key, value }));
  }

  /** Raises a Kurento event from this object, with the fields every event carries. */
  raise(type: string, data: Record<string, unknown> = {}): void {
    if (this.released) return;
    const now = Date.now();
    this.host.raise(this, type, {
      source: this.id,
      tags: this.sendTagsInEvents ? this.tagList() : [],
      timestamp: String(Math.floor(now / 1000)),
      timestampMillis: String(now),
      type, // Media events carry their own name here; `Error` carries the error type instead
      ...data,
    });
  }

  /** Raises the kmd `Error` event (errors found after a call already answered, e.g. a hat that fails to load). */
  raiseError(errorCode: number, type: string, description: string): void {
    this.host.log(`error ${this.id}: ${description}`);
    this.raise('Error', { description, errorCode, type });
  }

  /** Releases this object and its children; subclasses free their resources in `dispose`. */
  release(): void {
    if (this.released) return;
    for (const child of [...this.children]) child.release();
    this.dispose();
    this.released = true;
    this.parent?.children.delete(this);
  }

  protected dispose(): void {}
}
