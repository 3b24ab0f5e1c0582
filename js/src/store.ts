// A minimal observable value, shared by the sync layer and the views.

export type Listener = () => void;

export class Store<S> {
  private listeners = new Set<Listener>();

  constructor(private value: S) {}

  get(): S {
    return this.value;
  }

  set(value: S): void {
    if (value === this.value) return;
    this.value = value;
    for (const listener of [...this.listeners]) listener();
  }

  update(fn: (value: S) => S): void {
    this.set(fn(this.value));
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
