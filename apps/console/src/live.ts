// Live updates: the Hive pushes "this changed" notices on socket.io /console; pages refetch what
// they show. No polling. The socket is opened once per signed-in page and closed at sign-out.
import { useEffect, useRef } from 'react';
import { io, type Socket } from 'socket.io-client';

export type Topic = 'devices' | 'apps' | 'commands' | 'moves' | 'account' | 'settings';
export interface Change {
  topic: Topic;
  id?: string;
}

let socket: Socket | null = null;
/** A page that connected before missed what changed while it was away (signed out, offline). */
let connectedBefore = false;
const ALL_TOPICS: Topic[] = ['devices', 'apps', 'commands', 'moves', 'account', 'settings'];

function refreshEverything(): void {
  for (const listener of [...listeners]) for (const topic of ALL_TOPICS) listener({ topic });
}
const listeners = new Set<(change: Change) => void>();
const endedListeners = new Set<() => void>();

export function connectLive(): void {
  if (socket) return;
  socket = io('/console', { transports: ['websocket'], withCredentials: true });
  socket.on('change', (change: Change) => {
    for (const listener of [...listeners]) listener(change);
  });
  socket.on('session.ended', () => {
    for (const listener of [...endedListeners]) listener();
  });
  // Notices missed while away: everyone refetches once back.
  socket.on('connect', () => {
    if (connectedBefore) refreshEverything();
    connectedBefore = true;
  });
}

export function disconnectLive(): void {
  socket?.disconnect();
  socket = null;
}

export function onLiveSessionEnded(listener: () => void): () => void {
  endedListeners.add(listener);
  return () => endedListeners.delete(listener);
}

/** Calls `refresh` (at most every 250 ms) when a change of one of `topics` arrives, optionally only for one id. */
export function useLive(topics: Topic[], refresh: () => void, id?: string): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  const key = topics.join(',');
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const listener = (change: Change) => {
      if (!key.split(',').includes(change.topic)) return;
      if (id !== undefined && change.id !== undefined && change.id !== id && change.topic !== 'apps') return;
      if (timer === undefined) timer = setTimeout(() => ((timer = undefined), latest.current()), 250);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      clearTimeout(timer);
    };
  }, [key, id]);
}
