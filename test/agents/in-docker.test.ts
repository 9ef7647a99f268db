import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ModelServer, startModelServer } from "../fakes/model-server.js";
import {
  BASE_IMAGE,
  containersWith,
  docker,
  dockerReady,
  removeImagesWith,
} from "../helpers/docker-tasks.js";
import { tempDir } from "../helpers/tasks.js";
import { AGENT_TASK, type AgentRun, runAgentTrial, trialOf } from "./harness.js";

// Real agent CLIs (installed into the host's agent cache, mounted read-only into the container) running
// inside a Docker container built from the task's Dockerfile, against the scripted model servers. The
// servers listen on Docker's bridge gateway, the address a container reaches the host at.

const LABEL = `rli.test.run=${process.pid}-${Date.now()}`;

let tmp: { dir: string; cleanup: () => Promise<void> };
/** The agent task with an environment/Dockerfile instead of the host sandbox. */
let imageTask: string;
let gateway: string;
let server: ModelServer | null = null;
let run: AgentRun | null = null;

beforeAll(async () => {
  if (!(await dockerReady())) {
    throw new Error("no Docker daemon or no rli-base:bookworm image: run scripts/setup-docker.sh");
  }
  gateway = (
    await docker("network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}")
  ).trim();
  tmp = await tempDir("rli-agent-docker-");
  imageTask = join(tmp.dir, "agent-task-in-docker");
  await cp(AGENT_TASK, imageTask, { recursive: true });
  const toml = await readFile(join(imageTask, "task.toml"), "utf8");
  await writeFile(
    join(imageTask, "task.toml"),
    toml.replace(/\[environment\.rli\]\nsandbox = "host"\n?/, ""),
  );
  // The verifier passes only where this image's marker exists: the agent really ran in the container.
  // Like any real task image, it has CA certificates (goose's HTTP client will not start without);
  // debootstrap's minimal base has none, so the host's bundle goes in through the build context.
  await mkdir(join(imageTask, "environment"));
  await cp("/etc/ssl/certs/ca-certificates.crt", join(imageTask, "environment", "ca.crt"));
  await writeFile(
    join(imageTask, "environment", "Dockerfile"),
    [
      `FROM ${BASE_IMAGE}`,
      `LABEL ${LABEL}`,
      "COPY ca.crt /etc/ssl/certs/ca-certificates.crt",
      "RUN mkdir -p /app && echo built > /in-image",
      "",
    ].join("\n"),
  );
  const test = join(imageTask, "tests", "test.sh");
  await writeFile(
    test,
    (await readFile(test, "utf8")).replace(
      '"$(cat /app/hello.txt 2>/dev/null)" = "hello"',
      '"$(cat /app/hello.txt 2>/dev/null)" = "hello" ] && [ -f /in-image',
    ),
  );
}, 120_000);

afterEach(async () => {
  await server?.close();
  await run?.cleanup();
  server = null;
  run = null;
});

afterAll(async () => {
  await removeImagesWith(LABEL);
  await tmp?.cleanup();
});

describe.each([
  {
    agent: "codex:openai/gpt-5",
    env: (url: string) => ({ OPENAI_API_KEY: "sk-dummy", OPENAI_BASE_URL: url }),
  },
  {
    agent: "claude-code:claude-sonnet-4-5",
    env: (url: string) => ({ ANTHROPIC_API_KEY: "sk-ant-dummy", ANTHROPIC_BASE_URL: url }),
  },
  {
    agent: "gemini-cli:google/gemini-2.5-pro",
    env: (url: string) => ({ GEMINI_API_KEY: "dummy-gemini", GOOGLE_GEMINI_BASE_URL: url }),
  },
  {
    agent: "goose:openai/gpt-4.1",
    env: (url: string) => ({ OPENAI_API_KEY: "sk-dummy-goose", OPENAI_HOST: url }),
  },
])("$agent inside a container", ({ agent, env }) => {
  it("installs from the cache, reaches the model server through the bridge, passes, leaves no container", async () => {
    server = await startModelServer({ host: gateway });
    run = await runAgentTrial(agent, env(server.url), [], imageTask);
    const t = trialOf(run);
    expect(t.status, `${JSON.stringify(t.exception)}\n${run.stderr}`).toBe("passed");
    expect(server.replies).toBeGreaterThanOrEqual(2);
    expect(t.usage.output_tokens).toBeGreaterThan(0);
    const jobId = t.logs_dir.split("/trials/")[0]?.split("/").at(-1) ?? "";
    expect(await containersWith(`rli.job_id=${jobId}`)).toEqual([]);
  });
});
