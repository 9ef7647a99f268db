import { randomBytes } from "node:crypto";
import type { AgentRef } from "./schemas.js";

/** A sortable, unique job id: `job_<yyyymmdd>_<hhmmss>_<6 hex>` (UTC). */
export function newJobId(now: Date = new Date()): string {
  const iso = now.toISOString();
  const date = iso.slice(0, 10).replaceAll("-", "");
  const time = iso.slice(11, 19).replaceAll(":", "");
  return `job_${date}_${time}_${randomBytes(3).toString("hex")}`;
}

/** Replace anything that is not safe in a path segment. */
export function safeSegment(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_");
}

/** `agent` or `agent:model`, as users type it. */
export function agentLabel(agent: AgentRef): string {
  return agent.model === null ? agent.name : `${agent.name}:${agent.model}`;
}

/** Trial identity, stable across resumes: scenario, agent (with model) and attempt. */
export function trialId(scenarioId: string, agent: AgentRef, attempt: number): string {
  const agentPart = agent.model === null ? agent.name : `${agent.name}-${agent.model}`;
  return `${safeSegment(scenarioId)}__${safeSegment(agentPart)}__${attempt}`;
}
