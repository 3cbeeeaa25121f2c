// The bus clock and legal time. Every process of one bus shares one clock: real time, or real
// time compressed `scale` times around `origin` (at the origin both agree), as `guichet run
// --time-scale X --clock-origin ISO` defines it. Deadlines are calendar days on the Paris wall
// clock (circulaire 2012, II), so "15 jours" stays 15 calendar days across a change of summer time.

const PARIS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris', hourCycle: 'h23',
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export class BusClock {
  constructor ({ scale = null, origin = null } = {}) {
    if (scale !== null && !(scale > 0)) throw new Error('time scale must be positive');
    this.scale = scale;
    // Without an origin, today 00:00 UTC, as `guichet run` does.
    const today = new Date();
    this.originMs = origin ? parseInstant(origin) : Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  }

  /** The bus time now, in epoch milliseconds (fractions kept). */
  nowMs () {
    if (!this.scale) return Date.now();
    return this.originMs + (Date.now() - this.originMs) * this.scale;
  }

  /** How many real milliseconds until the bus clock reaches `momentMs`. */
  realMsUntil (momentMs) {
    return Math.max(0, (momentMs - this.nowMs()) / (this.scale || 1));
  }
}

/** An ISO 8601 instant; a date-time without offset is taken as UTC, as guichet/clock.py does. */
export function parseInstant (text) {
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(text);
  const ms = Date.parse(hasZone || !text.includes('T') ? text : `${text}Z`);
  if (Number.isNaN(ms)) throw new Error(`not an ISO 8601 instant: ${text}`);
  return ms;
}

/** The Paris wall clock at an instant: {year, month, day, hour, minute, second, offsetMinutes}. */
export function parisParts (ms) {
  const whole = Math.floor(ms / 1000) * 1000;
  const p = Object.fromEntries(PARIS.formatToParts(new Date(whole)).map((x) => [x.type, x.value]));
  const wall = { year: +p.year, month: +p.month, day: +p.day, hour: +p.hour, minute: +p.minute, second: +p.second };
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return { ...wall, offsetMinutes: Math.round((asUtc - whole) / 60000) };
}

/** The instant a Paris wall-clock time names (the earlier one when the hour is repeated). */
function fromParisWall (y, mo, d, h, mi, s, fractionMs) {
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s) + fractionMs;
  // Try the two offsets Paris has; the first that gives back the same wall clock is the one.
  for (const offset of [60, 120].map((m) => m * 60000).sort((a, b) => b - a)) {
    const candidate = asUtc - offset;
    const back = parisParts(candidate);
    if (back.hour === h && back.day === d && back.minute === mi) return candidate;
  }
  return asUtc - 3600000; // a wall time skipped by the spring change: read it with the winter offset
}

/** Calendar days on the Paris wall clock, as guichet/timeutil.py add_days. */
export function addDays (ms, days) {
  const p = parisParts(ms);
  const fraction = ms - Math.floor(ms / 1000) * 1000;
  const whole = Math.trunc(days);
  const rest = (days - whole) * 86400000;
  const date = new Date(Date.UTC(p.year, p.month - 1, p.day + whole));
  const instant = fromParisWall(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(),
    p.hour, p.minute, p.second, fraction);
  return instant + rest;
}

/** The Paris calendar date of an instant, YYYY-MM-DD. */
export function parisDate (ms) {
  const p = parisParts(ms);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** A date plus whole days, YYYY-MM-DD. */
export function datePlusDays (isoDate, days) {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * An instant as the bus writes it: the Paris wall clock with its offset, no fraction when the
 * milliseconds are zero, else six digits (2026-01-07T09:00:00+01:00, 2026-01-07T09:00:00.250000+01:00).
 * This is the spelling the Python agencies write and re-read without change.
 */
export function isoParis (ms) {
  const whole = Math.floor(ms);
  const p = parisParts(whole);
  const millis = whole - Math.floor(whole / 1000) * 1000;
  const sign = p.offsetMinutes >= 0 ? '+' : '-';
  const off = Math.abs(p.offsetMinutes);
  const fraction = millis ? `.${String(millis).padStart(3, '0')}000` : '';
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${fraction}` +
    `${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
}

function pad (n) { return String(n).padStart(2, '0'); }
