import { agentLabel } from "../core/ids.js";
import type { AgentRef, JobEvent, Phase, TrialStatus } from "../core/schemas.js";

export interface RunningTrial {
  trialId: string;
  scenarioId: string;
  agent: string;
  phase: Phase | null;
  startedAtMs: number;
  /** Infra-error tries so far (0 on the first try). */
  retries: number;
}

export interface AgentProgress {
  agent: string;
  done: number;
  running: number;
  scoreSum: number;
  scored: number;
  byStatus: Partial<Record<TrialStatus, number>>;
}

/** The live state of a job, folded from its events. Pure and incremental: feed events in order. */
export interface Progress {
  totalTrials: number;
  agents: Map<string, AgentProgress>;
  running: Map<string, RunningTrial>;
  finished: number;
  /** Each finished trial's agent, status and score, so a resume can take back the ones it reruns. */
  finishedTrials: Map<string, { agent: string; status: TrialStatus; score: number | null }>;
  state: "running" | "completed" | "failed" | "cancelled";
  startedAtMs: number | null;
}

export function emptyProgress(agents: readonly AgentRef[], totalTrials: number): Progress {
  const map = new Map<string, AgentProgress>();
  for (const a of agents) {
    map.set(agentLabel(a), {
      agent: agentLabel(a),
      done: 0,
      running: 0,
      scoreSum: 0,
      scored: 0,
      byStatus: {},
    });
  }
  return {
    totalTrials,
    agents: map,
    running: new Map(),
    finished: 0,
    finishedTrials: new Map(),
    state: "running",
    startedAtMs: null,
  };
}

function agentOf(p: Progress, label: string): AgentProgress {
  let a = p.agents.get(label);
  if (a === undefined) {
    a = { agent: label, done: 0, running: 0, scoreSum: 0, scored: 0, byStatus: {} };
    p.agents.set(label, a);
  }
  return a;
}

/** Take a finished trial's outcome out of the counts (it runs again). */
function forget(p: Progress, trialId: string): void {
  const done = p.finishedTrials.get(trialId);
  if (done === undefined) return;
  const a = agentOf(p, done.agent);
  a.done--;
  a.byStatus[done.status] = (a.byStatus[done.status] ?? 1) - 1;
  if (done.score !== null) {
    a.scoreSum -= done.score;
    a.scored--;
  }
  p.finished--;
  p.finishedTrials.delete(trialId);
}

/** Apply one event (mutates and returns `p`). Unknown event types are ignored. */
export function applyEvent(p: Progress, e: JobEvent): Progress {
  const ts = Date.parse(e.ts);
  switch (e.type) {
    case "job_started":
      p.totalTrials = e.n_trials;
      p.startedAtMs = ts;
      break;
    case "trial_started": {
      const label = agentLabel(e.agent);
      p.running.set(e.trial_id, {
        trialId: e.trial_id,
        scenarioId: e.scenario_id,
        agent: label,
        phase: null,
        startedAtMs: ts,
        retries: 0,
      });
      agentOf(p, label).running++;
      break;
    }
    case "phase_started": {
      const t = p.running.get(e.trial_id);
      if (t) t.phase = e.phase;
      break;
    }
    case "trial_retrying": {
      const t = p.running.get(e.trial_id);
      if (t) {
        t.retries = e.try;
        t.phase = null;
      }
      break;
    }
    case "trial_finished": {
      const t = p.running.get(e.trial_id);
      const a = agentOf(p, agentLabel(e.agent));
      // A trial cancelled before it started has no trial_started event.
      if (t) a.running--;
      a.done++;
      a.byStatus[e.status] = (a.byStatus[e.status] ?? 0) + 1;
      if (e.score !== null) {
        a.scoreSum += e.score;
        a.scored++;
      }
      p.running.delete(e.trial_id);
      p.finished++;
      p.finishedTrials.set(e.trial_id, { agent: a.agent, status: e.status, score: e.score });
      break;
    }
    case "job_resumed": {
      // The stopped runner's trials are not running any more; the reruns' old outcomes no longer count.
      for (const t of p.running.values()) agentOf(p, t.agent).running--;
      p.running.clear();
      for (const id of e.rerun) forget(p, id);
      p.totalTrials = e.n_trials;
      p.state = "running";
      break;
    }
    case "job_finished":
      p.state = e.state;
      break;
    default:
      break;
  }
  return p;
}
