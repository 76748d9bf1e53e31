// A scrolling plot of the last few seconds: the lip aperture (what closes on P, B, M) and the input level.

const SECONDS = 5;
const CLOSED_APERTURE = 0.1;  // rig.CLOSED_APERTURE: below it the lips count as closed
const LEVEL_FLOOR_DB = -60;

export class ScrollingPlot {
  constructor(canvas, fps = 60) {
    this.canvas = canvas;
    this.resize(fps);
  }

  resize(fps) {
    this.fps = fps;
    this.length = Math.round(SECONDS * fps);
    this.aperture = new Float32Array(this.length);
    this.level = new Float32Array(this.length).fill(LEVEL_FLOOR_DB);
    this.head = 0;
  }

  push(aperture, levelDb) {
    this.aperture[this.head] = aperture;
    this.level[this.head] = levelDb;
    this.head = (this.head + 1) % this.length;
  }

  draw() {
    const {canvas} = this;
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height;
    ctx.fillStyle = "#15181d";
    ctx.fillRect(0, 0, w, h);
    const y = v => h - 4 - Math.max(0, Math.min(1, v)) * (h - 8);
    ctx.strokeStyle = "#3a3f47";
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(0, y(CLOSED_APERTURE));
    ctx.lineTo(w, y(CLOSED_APERTURE));
    ctx.stroke();
    ctx.setLineDash([]);
    this.line(ctx, this.level, v => y((v - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB), "#6c8ebf");
    this.line(ctx, this.aperture, y, "#f0a35e");
  }

  line(ctx, values, y, colour) {
    const w = this.canvas.width;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = 0; i < this.length; i++) {
      const value = values[(this.head + i) % this.length];
      const x = (i / (this.length - 1)) * w;
      if (i === 0) ctx.moveTo(x, y(value)); else ctx.lineTo(x, y(value));
    }
    ctx.stroke();
  }
}
