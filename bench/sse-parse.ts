// An incremental parser of server-sent events: frames are separated by a blank line; comments are skipped.

export type FrameHandler = (event: string, data: string) => void;

export class SseParser {
  private buffer = '';

  constructor(private readonly onFrame: FrameHandler) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.parseFrame(frame);
      end = this.buffer.indexOf('\n\n');
    }
  }

  private parseFrame(frame: string): void {
    let event = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) this.onFrame(event, data.join('\n'));
  }
}
