// A view that throws while drawing would otherwise leave its last DOM (often "Loading...") in
// place without a word: this says what failed, as text, and logs the error to the console.

import { Component, type ComponentChildren } from "preact";

interface Props {
  children?: ComponentChildren;
}

export class ViewGuard extends Component<Props, { error: string | null }> {
  state = { error: null as string | null };

  componentDidCatch(error: unknown): void {
    console.error("pbrain-widgets: a view failed to draw", error);
    this.setState({ error: error instanceof Error ? error.message : String(error) });
  }

  render() {
    if (this.state.error === null) return this.props.children;
    return (
      <div class="pw-root pw-view-error" role="alert">
        {`This monitor failed to draw (${this.state.error}). Re-run its cell to show it again; the browser's console has the details.`}
      </div>
    );
  }
}
