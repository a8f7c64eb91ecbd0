// SPDX-License-Identifier: LGPL-2.1-or-later
// Numbers as a person reads them: sonded speaks bytes, bytes/s, percent
// 0-100 and seconds. Each formatter returns [number, unit] so that the page
// can set the unit apart; Sonde.format.text() joins them.
'use strict';

(function () {
  const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  const DASH = '–';

  function finite(value) {
    return typeof value === 'number' && Number.isFinite(value);
  }

  // Three significant digits at most, never an exponent.
  function significant(value) {
    const magnitude = Math.abs(value);
    if (magnitude >= 100 || value === 0)
      return value.toFixed(0);
    if (magnitude >= 10)
      return value.toFixed(1);
    return value.toFixed(2);
  }

  function bytes(value) {
    if (!finite(value))
      return [DASH, ''];
    let scaled = value;
    let unit = 0;
    // Up a unit before a figure would print as "1024" or "1.02e3".
    while (Math.abs(scaled) >= 999.5 && unit < IEC.length - 1) {
      scaled /= 1024;
      unit++;
    }
    return [unit === 0 ? value.toFixed(0) : significant(scaled), IEC[unit]];
  }

  function rate(value) {
    const [number, unit] = bytes(value);
    return [number, unit ? unit + '/s' : ''];
  }

  function percent(value) {
    return finite(value) ? [value.toFixed(1), '%'] : [DASH, ''];
  }

  const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

  function count(value) {
    return finite(value) ? [grouping.format(value), ''] : [DASH, ''];
  }

  function load(value) {
    return finite(value) ? [value.toFixed(2), ''] : [DASH, ''];
  }

  function mhz(value) {
    if (!finite(value) || value <= 0)
      return [DASH, ''];
    return value >= 1000 ? [(value / 1000).toFixed(2), 'GHz'] : [value.toFixed(0), 'MHz'];
  }

  function ms(value) {
    return finite(value) ? [value < 10 ? value.toFixed(2) : value.toFixed(1), 'ms'] : [DASH, ''];
  }

  // "3 d 4 h", "4 h 12 min", "12 min", "40 s": the two largest units.
  function duration(value) {
    if (!finite(value) || value < 0)
      return [DASH, ''];
    const s = Math.floor(value);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    let text;
    if (d > 0)
      text = `${d} d ${h} h`;
    else if (h > 0)
      text = `${h} h ${m} min`;
    else if (m > 0)
      text = `${m} min`;
    else
      text = `${s} s`;
    return [text, ''];
  }

  function plain(value) {
    if (value === null || value === undefined || value === '')
      return [DASH, ''];
    return [String(value), ''];
  }

  const formatters = { bytes, rate, percent, count, load, mhz, ms, duration, text: plain };

  // A value in a catalog unit (as alerts name their metric's unit).
  const byUnit = {
    bytes: bytes,
    'bytes/s': rate,
    percent: percent,
    seconds: duration,
    ms: ms,
    MHz: mhz,
    count: count,
  };

  function split(kind, value) {
    return (formatters[kind] || plain)(value);
  }

  function text(kind, value) {
    const [number, unit] = split(kind, value);
    return unit ? `${number} ${unit}` : number;
  }

  function unitText(unit, value) {
    const formatter = byUnit[unit];
    if (formatter) {
      const [number, suffix] = formatter(value);
      return suffix ? `${number} ${suffix}` : number;
    }
    if (finite(value))
      return Math.abs(value) >= 100 ? value.toFixed(0) : significant(value);
    return plain(value)[0];
  }

  function pad(n) {
    return n < 10 ? '0' + n : String(n);
  }

  // Local wall-clock time, HH:MM:SS.
  function clock(ms) {
    const date = new Date(ms);
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  }

  window.Sonde = window.Sonde || {};
  window.Sonde.format = { split, text, unitText, clock, bytes, rate, percent, count, duration };
})();
