// SPDX-License-Identifier: LGPL-2.1-or-later
// A small time-series chart on <canvas>: the last few minutes of one or more
// series, drawn only when asked (the dashboard asks once per animation
// frame, and only for charts whose data, size, colours or hover changed).
'use strict';

(function () {
  const GAP_FACTOR = 2.5;          // a gap longer than this many intervals breaks the line
  const PAD_TOP = 8;               // CSS pixels
  const PAD_BOTTOM = 18;           // room for the time labels
  const NICE_STEPS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];

  function hexToRgba(hex, alpha) {
    const match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
    if (!match)
      return hex;
    const [r, g, b] = match.slice(1).map((part) => parseInt(part, 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }

  // The smallest "round" value at or above @value, in the binary units the
  // labels will be printed in (so that a scale reads 2 MiB/s, not 2.1 MiB/s).
  function niceBytesCeiling(value) {
    let unit = 1;
    while (value / unit >= 1000)
      unit *= 1024;
    const scaled = value / unit;
    const decade = Math.pow(10, Math.floor(Math.log10(scaled)));
    for (const step of NICE_STEPS)
      if (step * decade >= scaled)
        return step * decade * unit;
    return 10 * decade * unit;
  }

  class TimeChart {
    // options: series [{key, label, color (a CSS custom property), fill}],
    // kind 'percent' or 'rate', windowMs, intervalMs, onDirty ()
    constructor(canvas, options) {
      this.canvas = canvas;
      this.context = canvas.getContext('2d');
      this.kind = options.kind;
      this.windowMs = options.windowMs || 300000;
      this.intervalMs = options.intervalMs || 1000;
      this.onDirty = options.onDirty || (() => {});
      this.series = options.series.map((s) => ({ ...s, times: [], values: [] }));
      this.end = 0;                 // time of the latest point, ms
      this.cssWidth = 0;
      this.cssHeight = 0;
      this.hoverX = null;
      this.colors = null;
      this.colorsVersion = 0;
      this.layersKey = null;     // what the cached grid and labels were drawn for
      this.under = null;
      this.over = null;
      this.gradients = {};
      this.dirty = true;

      // Sizes come from the observer, never from reading layout while
      // drawing: no forced reflow in the frame.
      this.observer = new ResizeObserver((entries) => {
        const box = entries[entries.length - 1].contentRect;
        if (box.width !== this.cssWidth || box.height !== this.cssHeight) {
          this.cssWidth = box.width;
          this.cssHeight = box.height;
          this.invalidate();
        }
      });
      this.observer.observe(canvas);

      canvas.addEventListener('pointermove', (event) => {
        this.hoverX = event.offsetX;
        this.invalidate();
      });
      canvas.addEventListener('pointerleave', () => {
        this.hoverX = null;
        this.invalidate();
      });
    }

    invalidate() {
      if (!this.dirty) {
        this.dirty = true;
        this.onDirty();
      }
    }

    setColors(colors) {
      this.colors = colors;
      this.colorsVersion = (this.colorsVersion || 0) + 1;
      this.invalidate();
    }

    findSeries(key) {
      return this.series.find((s) => s.key === key);
    }

    // Appends a live point; an older or repeated time (a frame after a
    // reconnection's history) is merged in order instead.
    push(key, time, value) {
      const series = this.findSeries(key);
      if (!series || typeof value !== 'number' || !Number.isFinite(value))
        return;
      const last = series.times.length ? series.times[series.times.length - 1] : -Infinity;
      if (time > last) {
        series.times.push(time);
        series.values.push(value);
      } else {
        this.merge(key, [[time, value]]);
        return;
      }
      this.advance(time);
    }

    // Merges [[epoch_ms, value], ...] (a history frame) with what is there:
    // points kept across a daemon restart stay, duplicates collapse.
    merge(key, points) {
      const series = this.findSeries(key);
      if (!series || !Array.isArray(points) || points.length === 0)
        return;
      const byTime = new Map();
      for (let i = 0; i < series.times.length; i++)
        byTime.set(series.times[i], series.values[i]);
      for (const point of points)
        if (Array.isArray(point) && typeof point[1] === 'number' && Number.isFinite(point[1]))
          byTime.set(point[0], point[1]);
      const times = Array.from(byTime.keys()).sort((a, b) => a - b);
      series.times = times;
      series.values = times.map((t) => byTime.get(t));
      this.advance(times[times.length - 1]);
    }

    advance(time) {
      if (time > this.end)
        this.end = time;
      this.trim();
      this.invalidate();
    }

    trim() {
      const oldest = this.end - this.windowMs - 2 * this.intervalMs;
      for (const series of this.series) {
        let drop = 0;
        while (drop < series.times.length && series.times[drop] < oldest)
          drop++;
        if (drop > 0) {
          series.times.splice(0, drop);
          series.values.splice(0, drop);
        }
      }
    }

    // Points of the first series inside the window.
    count() {
      const series = this.series[0];
      const start = this.end - this.windowMs;
      let n = 0;
      for (let i = series.times.length - 1; i >= 0 && series.times[i] >= start; i--)
        n++;
      return n;
    }

    latest(key) {
      const series = this.findSeries(key);
      return series && series.values.length ? series.values[series.values.length - 1] : null;
    }

    scaleMax() {
      if (this.kind === 'percent')
        return 100;
      const start = this.end - this.windowMs;
      let max = 0;
      for (const series of this.series)
        for (let i = series.times.length - 1; i >= 0 && series.times[i] >= start; i--)
          if (series.values[i] > max)
            max = series.values[i];
      // A floor, so that an idle disk draws a flat line at the bottom
      // rather than noise blown up to full height.
      return niceBytesCeiling(Math.max(max * 1.1, 4096));
    }

    label(value) {
      if (this.kind === 'percent')
        return `${Math.round(value)} %`;
      // Scale values are round: "5 MiB/s", not "5.00 MiB/s".
      const [number, unit] = Sonde.format.split('rate', value);
      return `${parseFloat(number)} ${unit}`;
    }

    draw() {
      if (!this.dirty)
        return;
      this.dirty = false;

      const canvas = this.canvas;
      const ratio = window.devicePixelRatio || 1;
      const width = Math.round(this.cssWidth * ratio);
      const height = Math.round(this.cssHeight * ratio);
      if (width === 0 || height === 0 || !this.colors)
        return;
      // Resizing a canvas clears it and its context: only when it changed.
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }

      const ctx = this.context;
      const colors = this.colors;
      const plotWidth = this.cssWidth;
      const plotTop = PAD_TOP;
      const plotHeight = this.cssHeight - PAD_TOP - PAD_BOTTOM;
      const start = this.end - this.windowMs;
      const max = this.scaleMax();
      const x = (t) => ((t - start) / this.windowMs) * plotWidth;
      const y = (v) => plotTop + plotHeight - (Math.min(Math.max(v, 0), max) / max) * plotHeight;

      // The grid and the labels only change with the size, the scale and
      // the colours: drawn once into layers, then copied at each tick.
      const key = `${width}x${height}|${ratio}|${max}|${this.end > 0}|${this.colorsVersion}`;
      if (key !== this.layersKey) {
        this.layersKey = key;
        this.paintLayers(width, height, ratio, plotWidth, plotTop, plotHeight, max);
      }

      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, width, height);
      ctx.drawImage(this.under, 0, 0);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);

      // Series: areas first, lines over them.
      for (const pass of ['fill', 'line']) {
        for (const series of this.series) {
          if (pass === 'fill' && !series.fill)
            continue;
          this.tracePath(series, start, x, y, pass === 'fill' ? plotTop + plotHeight : null);
          if (pass === 'fill') {
            ctx.fillStyle = this.gradients[series.color];
            ctx.fill();
          } else {
            ctx.strokeStyle = colors[series.color];
            ctx.lineWidth = series.fill ? 1.75 : 1.5;
            ctx.lineJoin = 'round';
            ctx.stroke();
          }
        }
      }

      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(this.over, 0, 0);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);

      if (this.hoverX !== null && this.end > 0)
        this.drawHover(start, x, y, plotTop, plotHeight);

      canvas.dataset.points = String(this.count());
    }

    // Under the data: the grid, a line each minute and at 0, half and full
    // scale, and the time labels. Over it: the scale's labels, with a halo
    // of the panel's colour to stay legible across the lines.
    paintLayers(width, height, ratio, plotWidth, plotTop, plotHeight, max) {
      const colors = this.colors;
      const layer = () => {
        const canvas = document.createElement('canvas');
        canvas.width = width;
        canvas.height = height;
        const context = canvas.getContext('2d');
        context.setTransform(ratio, 0, 0, ratio, 0, 0);
        context.font = `10.5px ${colors.font}`;
        return [canvas, context];
      };
      const minuteX = (minute) => plotWidth - (minute * 60000 / this.windowMs) * plotWidth;

      const [under, ctx] = layer();
      ctx.lineWidth = 1;
      ctx.strokeStyle = colors.grid;
      ctx.beginPath();
      for (const fraction of [0, 0.5, 1]) {
        const lineY = Math.round(plotTop + plotHeight * fraction) + 0.5;
        ctx.moveTo(0, lineY);
        ctx.lineTo(plotWidth, lineY);
      }
      if (this.end > 0) {
        for (let minute = 1; minute * 60000 < this.windowMs; minute++) {
          const lineX = Math.round(minuteX(minute)) + 0.5;
          ctx.moveTo(lineX, plotTop);
          ctx.lineTo(lineX, plotTop + plotHeight);
        }
      }
      ctx.stroke();

      ctx.fillStyle = colors.text3;
      const labelY = this.cssHeight - 4;
      if (this.end > 0) {
        ctx.textAlign = 'center';
        for (let minute = 1; minute * 60000 < this.windowMs; minute++) {
          const labelX = minuteX(minute);
          if (labelX > 18 && labelX < plotWidth - 24)
            ctx.fillText(`−${minute} min`, labelX, labelY);
        }
        ctx.textAlign = 'right';
        ctx.fillText('now', plotWidth - 1, labelY);
      } else {
        ctx.textAlign = 'center';
        ctx.fillText('waiting for data…', plotWidth / 2, plotTop + plotHeight / 2);
      }

      const [over, top] = layer();
      top.lineWidth = 3;
      top.strokeStyle = colors.panel;
      top.fillStyle = colors.text3;
      top.textAlign = 'left';
      for (const fraction of [0, 0.5]) {
        const text = this.label(max * (1 - fraction));
        const textY = Math.round(plotTop + plotHeight * fraction) + 11;
        top.strokeText(text, 2, textY);
        top.fillText(text, 2, textY);
      }

      this.under = under;
      this.over = over;
      this.gradients = {};
      for (const series of this.series) {
        if (!series.fill)
          continue;
        const gradient = this.context.createLinearGradient(0, plotTop, 0, plotTop + plotHeight);
        gradient.addColorStop(0, hexToRgba(colors[series.color], 0.30));
        gradient.addColorStop(1, hexToRgba(colors[series.color], 0.03));
        this.gradients[series.color] = gradient;
      }
    }

    // The path of @series from @start on, broken where points are missing;
    // closed down to @floor when it is to be filled.
    tracePath(series, start, x, y, floor) {
      const ctx = this.context;
      const gap = GAP_FACTOR * this.intervalMs;
      ctx.beginPath();
      let first = -1;
      let previousTime = -Infinity;
      let previousX = 0;
      for (let i = 0; i < series.times.length; i++) {
        const t = series.times[i];
        if (t < start - this.intervalMs)
          continue;
        const px = x(t);
        const py = y(series.values[i]);
        if (first < 0 || t - previousTime > gap) {
          if (first >= 0 && floor !== null) {
            ctx.lineTo(previousX, floor);
            ctx.lineTo(x(series.times[first]), floor);
            ctx.closePath();
          }
          ctx.moveTo(px, py);
          first = i;
        } else {
          ctx.lineTo(px, py);
        }
        previousTime = t;
        previousX = px;
      }
      if (first >= 0 && floor !== null) {
        ctx.lineTo(previousX, floor);
        ctx.lineTo(x(series.times[first]), floor);
        ctx.closePath();
      }
    }

    drawHover(start, x, y, plotTop, plotHeight) {
      const ctx = this.context;
      const colors = this.colors;
      const time = start + (this.hoverX / this.cssWidth) * this.windowMs;
      const rows = [];
      let pointX = null;

      for (const series of this.series) {
        let best = -1;
        let bestDistance = Infinity;
        for (let i = 0; i < series.times.length; i++) {
          const distance = Math.abs(series.times[i] - time);
          if (distance < bestDistance) {
            best = i;
            bestDistance = distance;
          }
        }
        if (best < 0 || bestDistance > GAP_FACTOR * this.intervalMs)
          continue;
        const px = x(series.times[best]);
        pointX = pointX === null ? px : pointX;
        rows.push({ series, time: series.times[best], value: series.values[best], px, py: y(series.values[best]) });
      }
      if (rows.length === 0)
        return;

      ctx.strokeStyle = colors.text3;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(Math.round(pointX) + 0.5, plotTop);
      ctx.lineTo(Math.round(pointX) + 0.5, plotTop + plotHeight);
      ctx.stroke();

      for (const row of rows) {
        ctx.fillStyle = colors[row.series.color];
        ctx.beginPath();
        ctx.arc(row.px, row.py, 3, 0, 2 * Math.PI);
        ctx.fill();
      }

      const lines = [Sonde.format.clock(rows[0].time)].concat(
        rows.map((row) => `${row.series.label} ${this.kind === 'percent'
          ? Sonde.format.text('percent', row.value) : Sonde.format.text('rate', row.value)}`));
      ctx.font = `11.5px ${colors.font}`;
      const boxWidth = Math.max(...lines.map((line) => ctx.measureText(line).width)) + 14;
      const boxHeight = lines.length * 15 + 8;
      let boxX = pointX + 10;
      if (boxX + boxWidth > this.cssWidth)
        boxX = pointX - 10 - boxWidth;
      const boxY = plotTop + 2;

      ctx.fillStyle = colors.panel;
      ctx.strokeStyle = colors.border;
      ctx.beginPath();
      ctx.rect(Math.round(boxX) + 0.5, boxY + 0.5, Math.round(boxWidth), boxHeight);
      ctx.fill();
      ctx.stroke();
      ctx.textAlign = 'left';
      lines.forEach((line, index) => {
        ctx.fillStyle = index === 0 ? colors.text3 : colors.text;
        ctx.fillText(line, boxX + 7, boxY + 15 + index * 15);
      });
    }
  }

  window.Sonde = window.Sonde || {};
  window.Sonde.TimeChart = TimeChart;
})();
