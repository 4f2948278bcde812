#!/usr/bin/env node
// The one entry of the container image (Dockerfile CMD, railway.json startCommand). One image
// serves every role; JOBSCOPE_ROLE picks which:
//
//   worker   → jobscope worker (connector: $JOBSCOPE_CONNECTOR)       (BullMQ job worker)
//   pipeline → jobscope pipeline   (sink loops; /metrics and /healthz on METRICS_PORT)
//   api      → jobscope api        (REST, SSE, dashboard; /healthz on PORT)
//   all      → jobscope start      (everything in one process, for a single small box)
//
// It "execs" the CLI in this same process (sets argv, imports dist/src/cli/main.js) rather than
// spawning a child: the platform's SIGTERM then reaches the CLI's own drain handlers directly,
// with no forwarding layer that could lose it, and the container runs one Node process.
//
// Before that it adapts the environment to the platform, only where the user left a variable
// unset (an explicit value always wins):
// - Railway health-checks the PORT it injects. The API listens on PORT already; the pipeline
//   serves /healthz on METRICS_PORT, so METRICS_PORT defaults to PORT when PORT is set.
// - Railway sends SIGKILL RAILWAY_DEPLOYMENT_DRAINING_SECONDS after SIGTERM. When that variable
//   is set, the role's drain deadline (WORKER_/PIPELINE_/API_SHUTDOWN_TIMEOUT_MS) defaults to the
//   window minus a safety margin, so the drain finishes before the kill; an explicit deadline
//   that does not fit is reported at start.
//
// `node scripts/start-role.mjs --healthcheck` is the image's HEALTHCHECK: it GETs the role's
// /healthz on 127.0.0.1 and exits 0 when it answers 200 (node:20-slim has no curl).
/* global AbortSignal */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** JOBSCOPE_ROLE value → `jobscope` sub-command. */
const ROLE_COMMANDS = { worker: 'worker', pipeline: 'pipeline', api: 'api', all: 'start' };
/** The drain-deadline variable(s) each role honours. */
const ROLE_TIMEOUT_VARS = {
  worker: ['WORKER_SHUTDOWN_TIMEOUT_MS'],
  pipeline: ['PIPELINE_SHUTDOWN_TIMEOUT_MS'],
  api: ['API_SHUTDOWN_TIMEOUT_MS'],
  all: ['WORKER_SHUTDOWN_TIMEOUT_MS', 'PIPELINE_SHUTDOWN_TIMEOUT_MS', 'API_SHUTDOWN_TIMEOUT_MS'],
};
/** Time kept between the end of our drain and Railway's SIGKILL (process exit, log flush), ms. */
const DRAIN_MARGIN_MS = 3000;
/** Upper bound the roles' config accepts for a drain deadline, ms. */
const MAX_TIMEOUT_MS = 600_000;
/** How long the health probe waits for an answer, ms. */
const PROBE_TIMEOUT_MS = 4000;
const DEFAULT_API_PORT = 3000;
const DEFAULT_METRICS_PORT = 9464;

class LaunchError extends Error {}

const set = (value) => typeof value === 'string' && value.trim() !== '';

function readRole(env) {
  const allowed = Object.keys(ROLE_COMMANDS).join(', ');
  if (!set(env.JOBSCOPE_ROLE)) {
    throw new LaunchError(`JOBSCOPE_ROLE is not set; set it to one of: ${allowed} (one Railway service / compose service per role)`);
  }
  const role = env.JOBSCOPE_ROLE.trim().toLowerCase();
  if (!Object.hasOwn(ROLE_COMMANDS, role)) {
    throw new LaunchError(`JOBSCOPE_ROLE="${env.JOBSCOPE_ROLE.slice(0, 40)}" is not a role; set it to one of: ${allowed}`);
  }
  return role;
}

function readSeconds(env, name) {
  if (!set(env[name])) return undefined;
  const raw = env[name].trim();
  if (!/^\d{1,6}$/.test(raw)) throw new LaunchError(`${name}="${raw.slice(0, 20)}" must be a whole number of seconds`);
  return Number(raw);
}

/** Fits each unset drain deadline of the role into Railway's draining window; warns on explicit misfits. */
function fitDrainWindow(role, env, notes) {
  const windowSeconds = readSeconds(env, 'RAILWAY_DEPLOYMENT_DRAINING_SECONDS');
  if (windowSeconds === undefined) return;
  const windowMs = windowSeconds * 1000;
  // Below ~2 margins there is no room for a margin: take half the window instead.
  const budgetMs = Math.min(MAX_TIMEOUT_MS, windowMs > 2 * DRAIN_MARGIN_MS ? windowMs - DRAIN_MARGIN_MS : Math.floor(windowMs / 2));
  for (const name of ROLE_TIMEOUT_VARS[role]) {
    if (!set(env[name])) {
      env[name] = String(Math.max(0, budgetMs));
      notes.push(`${name}=${env[name]} (fits RAILWAY_DEPLOYMENT_DRAINING_SECONDS=${windowSeconds})`);
    } else if (Number(env[name]) > windowMs - 1000) {
      notes.push(
        `warning: ${name}=${env[name]} ms does not fit RAILWAY_DEPLOYMENT_DRAINING_SECONDS=${windowSeconds}: Railway will SIGKILL before the drain ends; lower it or raise drainingSeconds`,
      );
    }
  }
}

/** Points the pipeline's health/metrics server at the port Railway health-checks. */
function alignPipelinePort(role, env, notes) {
  if (role !== 'pipeline' || !set(env.PORT)) return;
  if (!set(env.METRICS_PORT)) {
    env.METRICS_PORT = env.PORT.trim();
    notes.push(`METRICS_PORT=${env.METRICS_PORT} (from PORT, so the platform's health check reaches /healthz)`);
  } else if (env.METRICS_PORT.trim() !== env.PORT.trim()) {
    notes.push(`warning: PORT=${env.PORT} but METRICS_PORT=${env.METRICS_PORT}: a health check on PORT will not reach the pipeline's /healthz`);
  }
}

/**
 * `jobscope worker` needs its connector; on a platform the start command is shared by every
 * service, so the worker service names it in JOBSCOPE_CONNECTOR, which the CLI reads (and, when
 * it is not a connector, reports under that name). Checked here too: said before anything runs.
 */
function roleArgs(role, args, env) {
  const given = args.some((a) => a === '--connector' || a.startsWith('--connector=') || a === '--help' || a === '-h');
  if (role !== 'worker' || given) return args;
  if (!set(env.JOBSCOPE_CONNECTOR)) {
    throw new LaunchError('JOBSCOPE_CONNECTOR is not set: the worker role needs its connector, e.g. JOBSCOPE_CONNECTOR=openai-compatible (see "jobscope worker --help")');
  }
  return args;
}

/** The port the role serves /healthz on, or undefined when it serves none. */
function healthPort(role, env) {
  if (role === 'pipeline') {
    const port = set(env.METRICS_PORT) ? Number(env.METRICS_PORT) : set(env.PORT) ? Number(env.PORT) : DEFAULT_METRICS_PORT;
    return port > 0 ? port : undefined;
  }
  if (set(env.PORT)) return Number(env.PORT);
  return role === 'worker' ? undefined : DEFAULT_API_PORT;
}

async function probe(env) {
  const role = readRole(env);
  alignPipelinePort(role, env, []);
  const port = healthPort(role, env);
  if (port === undefined) {
    console.log(`start-role: role ${role} serves no health endpoint (set PORT to get one); nothing to probe`);
    return 0;
  }
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    console.log(`start-role: ${role} /healthz on :${port} answered ${res.status}`);
    return res.status === 200 ? 0 : 1;
  } catch (err) {
    console.log(`start-role: ${role} /healthz on :${port} did not answer: ${err.cause?.code ?? err.message}`);
    return 1;
  }
}

async function launch(args, env) {
  const role = readRole(env);
  const cliArgs = roleArgs(role, args, env);
  const notes = [];
  alignPipelinePort(role, env, notes);
  fitDrainWindow(role, env, notes);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const cli = join(root, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new LaunchError(`${cli} is missing: run "npm run build" first (the image does it in its build stage)`);
  const command = ROLE_COMMANDS[role];
  const port = healthPort(role, env);
  console.error(`start-role: JOBSCOPE_ROLE=${role} → jobscope ${[command, ...cliArgs].join(' ')}${port ? ` (health: :${port}/healthz)` : ''}`);
  for (const note of notes) console.error(`start-role: ${note}`);
  // "exec": the CLI reads process.argv.slice(2) and installs its own signal handlers.
  process.argv = [process.argv[0], cli, command, ...cliArgs];
  await import(pathToFileURL(cli).href);
  return undefined;
}

const args = process.argv.slice(2);
const run = args[0] === '--healthcheck' ? probe(process.env) : launch(args, process.env);
run.then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof LaunchError ? `start-role: ${err.message}` : err);
    process.exitCode = 2;
  },
);
