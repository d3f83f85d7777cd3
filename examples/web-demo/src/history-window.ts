/**
 * How history pages and live messages join a channel's loaded window, which must stay contiguous (no
 * hidden gaps between rows). Pure, unit-tested.
 */
import type { Message } from '@natter/client';
import type { ChannelWindow } from './state.js';

/** A page of history, as `ChatClient.history` answers. */
export interface Page {
  messages: readonly Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/** Which page it is: the newest, older than the window, newer than it, or centred on a message. */
export type PageKind = 'latest' | 'before' | 'after' | 'around';

function bounds(window: ChannelWindow): { min: number; max: number } | undefined {
  if (window.bySeq.size === 0) return undefined;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const seq of window.bySeq.keys()) {
    min = Math.min(min, seq);
    max = Math.max(max, seq);
  }
  return { min, max };
}

function replace(window: ChannelWindow, page: Page): void {
  window.bySeq = new Map(page.messages.map((m) => [m.seq, m]));
  window.hasMoreBefore = page.hasMoreBefore;
  window.hasMoreAfter = page.hasMoreAfter;
}

/** Adds a page to the window; replaces the window when the page would leave a gap. */
export function mergePage(window: ChannelWindow, page: Page, kind: PageKind): void {
  const have = bounds(window);
  const first = page.messages[0]?.seq;
  const last = page.messages[page.messages.length - 1]?.seq;
  if (kind === 'around' || !have || first === undefined || last === undefined) {
    if (kind === 'around' || !have) replace(window, page);
    else if (kind === 'before') window.hasMoreBefore = page.hasMoreBefore;
    else if (kind === 'after') window.hasMoreAfter = page.hasMoreAfter;
    else window.hasMoreAfter = false;
    return;
  }
  const overlaps = first <= have.max + 1 && last >= have.min - 1;
  if (!overlaps) {
    // A gap between what is loaded and the page: show the page alone.
    replace(window, page);
    return;
  }
  for (const message of page.messages) window.bySeq.set(message.seq, message);
  if (first <= have.min) window.hasMoreBefore = page.hasMoreBefore;
  if (kind === 'latest') window.hasMoreAfter = false;
  else if (last >= have.max) window.hasMoreAfter = page.hasMoreAfter;
}

/**
 * Adds a live message when the window shows the newest messages. Returns false when it leaves a gap (the
 * caller then loads what is missing).
 */
export function addLive(window: ChannelWindow, message: Message): boolean {
  if (window.hasMoreAfter) return true;
  const have = bounds(window);
  if (have && message.seq > have.max + 1) {
    window.hasMoreAfter = true;
    return false;
  }
  window.bySeq.set(message.seq, message);
  return true;
}

/** The lowest and highest loaded `seq`. */
export function windowBounds(window: ChannelWindow): { min: number; max: number } | undefined {
  return bounds(window);
}
