// Follows one job: its object (status, progress, ETA) and its events, oldest first, each delivered once.
// Live updates come from the SSE stream (GET …/events?stream=true answering text/event-stream, read with fetch so
// the Authorization header can be sent) and fall back to polling the JSON routes when the server has no stream.
import { fetchEventSource } from '@microsoft/fetch-event-source';
import { api, authHeaders, terminal } from './api.js';

const pollMs = 2000;
const eventNumber = id => Number(String(id).replace(/^\D+/, '')) || 0;

class NoStream extends Error {}

export function followJob(jobId, { onJob, onEvents, onMode }) {
  const base = `/v1/fine_tuning/jobs/${encodeURIComponent(jobId)}`;
  const seen = new Set();
  const abort = new AbortController();
  let newest = 0;
  let stopped = false;
  let timer;

  const deliver = events => {
    const fresh = events.filter(e => e?.id && !seen.has(e.id)).sort((a, b) => eventNumber(a.id) - eventNumber(b.id));
    for (const e of fresh) { seen.add(e.id); newest = Math.max(newest, eventNumber(e.id)); }
    if (fresh.length) onEvents(fresh);
  };

  const refreshJob = async () => {
    const job = await api(base);
    if (!stopped) onJob(job);
    return job;
  };

  /** Newest-first pages until one reaches an event already seen (or the start). */
  const fetchNewEvents = async () => {
    const collected = [];
    let after;
    for (let page = 0; page < 200; page++) {
      const query = new URLSearchParams({ limit: '100', ...(after ? { after } : {}) });
      const list = await api(`${base}/events?${query}`, { signal: abort.signal });
      collected.push(...list.data);
      const reachedSeen = list.data.some(e => eventNumber(e.id) <= newest && seen.has(e.id));
      if (!list.has_more || reachedSeen || list.data.length === 0) break;
      after = list.data[list.data.length - 1].id;
    }
    deliver(collected);
  };

  const poll = async () => {
    if (stopped) return;
    try {
      const job = await refreshJob();
      await fetchNewEvents();
      if (terminal.has(job.status)) { onMode?.('finished'); return; }
    } catch (error) {
      if (stopped) return;
      onMode?.('error', error);
    }
    timer = setTimeout(poll, pollMs);
  };

  // Resumes after the newest event already shown (id: ftevent-N); fetch-event-source keeps it current on reconnects.
  const stream = () => fetchEventSource(`${base}/events?stream=true`, {
    headers: authHeaders(newest ? { 'Last-Event-ID': `ftevent-${newest}` } : {}),
    signal: abort.signal,
    openWhenHidden: true,
    async onopen(response) {
      const type = response.headers.get('content-type') ?? '';
      if (!response.ok || !type.startsWith('text/event-stream')) throw new NoStream();
      onMode?.('stream');
    },
    onmessage(message) {
      // `event: done` closes the stream once the job has ended; the job object says how.
      if (message.event && message.event !== 'message') { refreshJob().catch(() => {}); return; }
      if (!message.data) return;
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      if (event && !event.id && message.id) event.id = message.id;
      deliver([event]);
      if (event.type !== 'metrics') refreshJob().catch(() => {});
    },
    onerror(error) {
      if (error instanceof NoStream || stopped) throw error;
      // Anything else (a dropped connection): fetch-event-source retries, resuming with Last-Event-ID.
    },
  });

  (async () => {
    try {
      const job = await refreshJob();
      await fetchNewEvents();
      if (terminal.has(job.status)) { onMode?.('finished'); return; }
      try {
        // Progress and ETA live on the job object: refresh it while the stream brings the events.
        const progress = setInterval(() => refreshJob().catch(() => {}), 3000);
        try { await stream(); } finally { clearInterval(progress); }
        if (stopped) return;
        const after = await refreshJob();
        await fetchNewEvents();
        if (terminal.has(after.status)) { onMode?.('finished'); return; }
        onMode?.('polling'); // the stream ended early: keep following by polling
        timer = setTimeout(poll, pollMs);
      } catch (error) {
        if (stopped) return;
        if (!(error instanceof NoStream)) console.warn('event stream failed, polling instead', error);
        onMode?.('polling');
        timer = setTimeout(poll, pollMs);
      }
    } catch (error) {
      if (!stopped) onMode?.('error', error);
    }
  })();

  return () => { stopped = true; abort.abort(); clearTimeout(timer); };
}
