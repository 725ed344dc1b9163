import {
  ACTIVE_RUN_STATUSES,
  type Pair,
  type Run,
  type RunProgress,
  type WsEvent,
  WsEventSchema,
} from '@syncengine/contracts';
import { emptyProgressTotals, PROGRESS_KINDS, type ProgressPhase } from '@syncengine/engine/progress';
import WebSocket from 'ws';
import { LiveDisplay, type ProgressView, progressLines, statsLine } from '../display.js';
import { EXIT, type ExitCode, usageError } from '../exit-codes.js';
import { formatBytes, formatDuration, plural } from '../format.js';
import { ACTION_VERBS, type OutputMode, outputMode } from '../progress.js';
import type { CliIo } from '../sync.command.js';
import { type ApiClient, createApiClient } from './api-client.js';
import { loadCredentials } from './credentials.js';
import { findPair } from './server.commands.js';

/** Options of `pairs run`. */
export interface RunOptions {
  wait?: boolean;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
  progress?: boolean;
  statsInterval?: number;
}

/** How often the run is read back while waiting, whatever the WebSocket says (ms). */
const POLL_MS = 1_000;
const REDRAW_MS = 200;

/**
 * The exit code of a server run, as `sync` would end: 0 in sync, 3 conflicts left, 4
 * stopped by the max-delete guard, 1 failed or cancelled. A status this client does not
 * know, other than an active one, ends the run too: conflicts left make it 3.
 */
export function exitCodeForRun(run: Run): ExitCode {
  const pending = run.stats?.conflictsPending ?? 0;
  switch (run.status) {
    case 'completed':
      return pending > 0 ? EXIT.conflictsRemain : EXIT.ok;
    case 'failed':
      // The engine's max-delete message names the setting; the run row keeps the message.
      return /maxDeletePercent|max-delete/.test(run.error ?? '') ? EXIT.maxDelete : EXIT.runtimeError;
    case 'cancelled':
      return EXIT.runtimeError;
    default:
      return pending > 0 || !ACTIVE_RUN_STATUSES.includes(run.status)
        ? EXIT.conflictsRemain
        : EXIT.runtimeError;
  }
}

const PHASES: Record<RunProgress['phase'], ProgressPhase> = {
  scanning: 'scanning',
  planning: 'planning',
  transferring: 'syncing',
  finishing: 'finished',
};

/**
 * The display's figures from a server run's progress: per-kind counts and transfers when
 * the server sends them, else its files count (all actions) and current file.
 */
function viewOf(run: Run, progress: RunProgress | null, now: number): ProgressView {
  const started = run.startedAt ? Date.parse(run.startedAt) : now;
  const bytesTotal = progress?.bytesTotal ?? 0;
  const done = emptyProgressTotals();
  const total = { ...emptyProgressTotals(), bytes: bytesTotal };
  if (progress?.counts) {
    for (const kind of PROGRESS_KINDS) {
      done[kind] = progress.counts[kind]?.done ?? 0;
      total[kind] = progress.counts[kind]?.total ?? 0;
    }
  } else {
    total.file = progress?.filesTotal ?? 0;
    done.file = Math.min(progress?.filesDone ?? 0, total.file);
  }
  const current =
    progress?.currentFile && progress.phase === 'transferring'
      ? [{ path: progress.currentFile, bytesDone: 0, size: 0 }]
      : [];
  return {
    phase: run.status === 'paused' ? 'paused' : progress ? PHASES[progress.phase] : 'starting',
    scanned: { source: 0, destination: 0 },
    done,
    total,
    errors: run.stats?.errors ?? 0,
    bytesDone: Math.min(progress?.bytesDone ?? 0, bytesTotal),
    transfers: progress?.transfers ?? current,
    rateBytesPerSecond: progress?.rateBytesPerSecond ?? 0,
    elapsedMs: Math.max(0, (run.finishedAt ? Date.parse(run.finishedAt) : now) - started),
  };
}

/** Opens the server's WebSocket with the token; resolves once the snapshot arrived, null if it cannot. */
function connect(url: string, token: string, onEvent: (event: WsEvent) => void): Promise<WebSocket | null> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    let isOpen = false;
    socket.on('unexpected-response', (_request, response) => {
      socket.terminate();
      if (response.statusCode === 401) {
        reject(
          usageError(
            `the server at ${url} refused the token (revoked, expired or mistyped). Create a token on the dashboard's Tokens page and run syncengine login ${url}`,
          ),
        );
      } else resolve(null);
    });
    socket.on('error', () => {
      if (!isOpen) resolve(null);
    });
    socket.on('message', (data) => {
      let parsed: ReturnType<typeof WsEventSchema.safeParse>;
      try {
        parsed = WsEventSchema.safeParse(JSON.parse(data.toString()));
      } catch {
        return;
      }
      if (!parsed.success) return;
      if (parsed.data.type === 'snapshot' && !isOpen) {
        isOpen = true;
        resolve(socket);
      }
      onEvent(parsed.data);
    });
  });
}

/** `syncengine pairs run <pair> [--wait]`. */
export async function pairsRunCommand(nameOrId: string, options: RunOptions, io: CliIo): Promise<ExitCode> {
  const credentials = await loadCredentials(io.env);
  const api = createApiClient(credentials);
  const pair = await findPair(api, nameOrId);
  const body = { dryRun: options.dryRun ?? false, force: options.force ?? false };
  if (!options.wait) {
    const run = await api.triggerRun(pair.id, body);
    if (options.json) io.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
    else
      io.stdout.write(
        `Queued run ${run.id} of ${pair.name}; follow it with syncengine pairs run --wait, or on the dashboard.\n`,
      );
    return EXIT.ok;
  }
  return waitForRun(api, credentials.token, pair, body, options, io);
}

async function waitForRun(
  api: ApiClient,
  token: string,
  pair: Pick<Pair, 'id' | 'name' | 'concurrency'>,
  body: { dryRun: boolean; force: boolean },
  options: RunOptions,
  io: CliIo,
): Promise<ExitCode> {
  const mode: OutputMode = outputMode(options, io);
  const display = new LiveDisplay(io.stderr);
  let runId: string | null = null;
  let run: Run | null = null;
  let progress: RunProgress | null = null;
  const early: WsEvent[] = [];
  let settle: (run: Run) => void = () => {};
  const ended = new Promise<Run>((resolve) => {
    settle = resolve;
  });

  const draw = () => {
    if (mode !== 'tty' || !run) return;
    display.draw(
      progressLines(viewOf(run, progress, Date.now()), {
        width: display.width,
        maxTransfers: pair.concurrency.transfers,
      }),
    );
  };
  const say = (text: string, stream: 'stdout' | 'stderr' = 'stdout') => {
    display.clear();
    io[stream].write(`${text}\n`);
    draw();
  };
  const handle = (event: WsEvent) => {
    if (runId === null) {
      early.push(event);
      return;
    }
    switch (event.type) {
      case 'run.progress':
        if (event.runId === runId) progress = event.progress;
        break;
      case 'run.action':
        if (event.runId !== runId) break;
        if (event.action.status === 'failed')
          say(`error: ${event.action.path}: ${event.action.error ?? 'failed'}`, 'stderr');
        else if (mode === 'plain' && event.action.type !== 'NO_ACTION' && event.action.status === 'done') {
          say(
            `${ACTION_VERBS[event.action.type]}: ${event.action.path}${event.action.to ? ` → ${event.action.to}` : ''}`,
          );
        }
        break;
      case 'conflict.created':
        if (event.conflict.runId === runId && mode !== 'quiet') {
          say(
            `conflict: ${event.conflict.path} (decide: syncengine conflicts resolve ${event.conflict.id} source|destination|keep-both|skip)`,
            'stderr',
          );
        }
        break;
      case 'run.started':
      case 'run.completed':
      case 'run.failed':
      case 'run.cancelled':
        if (event.run.id !== runId) break;
        run = event.run;
        if (!ACTIVE_RUN_STATUSES.includes(event.run.status)) settle(event.run);
        break;
      default:
        break;
    }
  };

  // Listening before the run is queued, so no event of it is missed.
  const socket = await connect(api.url, token, handle);
  run = await api.triggerRun(pair.id, body);
  runId = run.id;
  for (const event of early.splice(0)) handle(event);

  // The run is also read back now and then: it ends the wait even if the WebSocket drops.
  const poll = setInterval(() => {
    api
      .getRun(runId!)
      .then((current) => {
        run = current;
        if (!ACTIVE_RUN_STATUSES.includes(current.status)) settle(current);
      })
      .catch(() => {});
  }, POLL_MS);
  const redraw = mode === 'tty' ? setInterval(draw, REDRAW_MS) : null;
  const stats =
    mode === 'plain' && options.statsInterval
      ? setInterval(
          () => run && io.stdout.write(`${statsLine(viewOf(run, progress, Date.now()))}\n`),
          options.statsInterval,
        )
      : null;
  const onSigint = () => {
    display.clear();
    io.stderr.write(`Cancelling run ${runId}: running operations finish first…\n`);
    void api.controlRun(runId!, 'cancel').catch(() => {});
  };
  process.on('SIGINT', onSigint);
  let final: Run;
  try {
    final = await ended;
  } finally {
    clearInterval(poll);
    if (redraw) clearInterval(redraw);
    if (stats) clearInterval(stats);
    process.off('SIGINT', onSigint);
    socket?.close();
  }
  run = final;
  // A finished run's stored progress is final; it may be newer than the last event received.
  progress = final.progress ?? progress;
  if (mode === 'tty') {
    draw();
    display.keep();
  }
  const code = exitCodeForRun(final);
  if (options.json) io.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
  else if (!options.quiet || code !== EXIT.ok) io.stdout.write(`${runSummary(final, pair.name)}\n`);
  return code;
}

/** The closing line of a server run. */
export function runSummary(run: Run, pairName: string): string {
  const took = run.stats ? ` in ${formatDuration(run.stats.durationMs)}` : '';
  const pending = run.stats?.conflictsPending ?? 0;
  const conflicts =
    pending > 0
      ? `; ${plural(pending, 'conflict')} left (see: syncengine conflicts list --pair ${run.pairId})`
      : '';
  const moved = run.stats
    ? `: ${formatBytes(run.stats.bytesUploaded)} up, ${formatBytes(run.stats.bytesDownloaded)} down`
    : '';
  switch (run.status) {
    case 'completed':
      return `Run ${run.id} of ${pairName} completed${took}${moved}${conflicts}.`;
    case 'failed':
      return `Run ${run.id} of ${pairName} failed${took}: ${run.error ?? 'no reason given'}`;
    case 'cancelled':
      return `Run ${run.id} of ${pairName} was cancelled${took}${moved}.`;
    default:
      return `Run ${run.id} of ${pairName} ended ${run.status}${took}${moved}${conflicts}.`;
  }
}
