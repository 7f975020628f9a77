// A Server-Sent Events parser (the WHATWG "event stream" interpretation), for a stream read with
// `fetch` (a browser's EventSource cannot send the Authorization header). Fed text as it arrives,
// in any chunking: lines end in CRLF, LF or CR; `data:` lines are joined with "\n"; `id:` sets the
// last event id (kept across messages, an id holding NUL is ignored); lines starting with ":" are
// comments (the keep-alive); a blank line dispatches the message (none without data).

export interface SseMessage {
  /** The `event:` field, "message" when absent. */
  event: string;
  data: string;
  /** The last event id as of this message ("" when none was ever set). */
  lastEventId: string;
}

export class SseParser {
  private buffer = "";
  /** A CR ended the last chunk: a LF opening the next one belongs to it. */
  private pendingCr = false;
  private data: string[] = [];
  private hasData = false;
  private event = "";
  lastEventId = "";

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  /** Feeds decoded text (use a TextDecoder in stream mode, so no character is split). */
  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.startsWith("\n")) text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    for (;;) {
      let end = -1;
      for (let i = start; i < this.buffer.length; i++) {
        const c = this.buffer.charCodeAt(i);
        if (c === 10 || c === 13) {
          end = i;
          break;
        }
      }
      if (end < 0) break;
      const line = this.buffer.slice(start, end);
      let next = end + 1;
      if (this.buffer.charCodeAt(end) === 13) {
        if (next < this.buffer.length) {
          if (this.buffer.charCodeAt(next) === 10) next++;
        } else {
          this.pendingCr = true;
        }
      }
      start = next;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  /** The stream ended: an unterminated message is dropped, as the standard says. */
  end(): void {
    this.buffer = "";
    this.pendingCr = false;
    this.data = [];
    this.hasData = false;
    this.event = "";
  }

  private line(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    let field = line;
    let value = "";
    if (colon >= 0) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
    }
    switch (field) {
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "event":
        this.event = value;
        break;
      default:
        // `retry` and unknown fields: not used here.
        break;
    }
  }

  private dispatch(): void {
    const data = this.data.join("\n");
    const hasData = this.hasData;
    const event = this.event || "message";
    this.data = [];
    this.hasData = false;
    this.event = "";
    if (!hasData) return;
    this.onMessage({ event, data, lastEventId: this.lastEventId });
  }
}
