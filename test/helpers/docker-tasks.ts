import { execFile, spawn } from "node:child_process";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { LABEL_JOB } from "../../src/backends/docker.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);

/** The base image every test Dockerfile starts from (no registry is reachable). */
export const BASE_IMAGE = "rli-base:bookworm";

/** `docker <args>` through the CLI on the default socket; its stdout. */
export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { env: { PATH: process.env.PATH } });
  return stdout;
}

/** Whether a Docker daemon answers and the base image is present. */
export async function dockerReady(): Promise<boolean> {
  try {
    await docker("image", "inspect", BASE_IMAGE);
    return true;
  } catch {
    return false;
  }
}

/** Ids of the containers (running or not) carrying `label` (`key=value`). */
export async function containersWith(label: string): Promise<string[]> {
  const out = await docker("ps", "-a", "-q", "--filter", `label=${label}`);
  return out.split("\n").filter(Boolean);
}

/** Ids of the containers of a job, by the label every rli container carries. */
export const containersOfJob = (jobId: string): Promise<string[]> =>
  containersWith(`${LABEL_JOB}=${jobId}`);

/** Repository:tag names of the images carrying every one of `labels` (`key=value`). */
export async function imagesWith(...labels: string[]): Promise<string[]> {
  const out = await docker(
    "images",
    ...labels.flatMap((l) => ["--filter", `label=${l}`]),
    "--format",
    "{{.Repository}}:{{.Tag}}",
  );
  return out.split("\n").filter(Boolean);
}

/** Removes the images carrying `label`, tagged or left dangling by a failed build. */
export async function removeImagesWith(label: string): Promise<void> {
  const ids = (await docker("images", "-a", "-q", "--filter", `label=${label}`))
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) await docker("image", "rm", "-f", ...new Set(ids)).catch(() => "");
}

/**
 * Counts the daemon's image `tag` events (one per completed build) from now until `stop`, by image name.
 * Resolves once the event stream is known to be live (a probe tag of the base image was seen).
 */
export async function watchImageTags(): Promise<{
  count: (tag: string) => number;
  stop: () => void;
}> {
  const seen: string[] = [];
  const child = spawn(
    "docker",
    [
      "events",
      "--filter",
      "type=image",
      "--filter",
      "event=tag",
      "--format",
      "{{.Actor.Attributes.name}}",
    ],
    { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "ignore"] },
  );
  let rest = "";
  child.stdout.on("data", (d: Buffer) => {
    const lines = (rest + d.toString()).split("\n");
    rest = lines.pop() ?? "";
    seen.push(...lines);
  });
  const probe = `rli-test-probe:${process.pid}-${Date.now()}`;
  try {
    await waitFor(
      async () => {
        await docker("tag", BASE_IMAGE, probe);
        return seen.includes(probe);
      },
      30_000,
      "docker events to report a tag",
    );
  } finally {
    await docker("image", "rm", probe).catch(() => "");
  }
  return {
    count: (tag) => seen.filter((name) => name === tag).length,
    stop: () => child.kill(),
  };
}

export interface TaskSpec {
  /** Extra task.toml text after `[agent]` / `[verifier]` (e.g. an `[environment]` table). */
  toml?: string;
  verifierToml?: string;
  /** environment/Dockerfile; none for docker_image tasks. */
  dockerfile?: string;
  /** More build-context files, by path relative to environment/. */
  context?: Record<string, string>;
  solve: string;
  test: string;
}

/** Writes a Harbor task directory (task.toml, instruction.md, environment/, solution/, tests/). */
export async function writeTask(dir: string, spec: TaskSpec): Promise<string> {
  const files: Record<string, string> = {
    "task.toml": `version = "1.0"\n\n[agent]\ntimeout_sec = 600\n\n[verifier]\ntimeout_sec = 60\n${spec.verifierToml ?? ""}\n${spec.toml ?? ""}`,
    "instruction.md": "Do what solution/solve.sh does.\n",
    "solution/solve.sh": `#!/bin/bash\nset -eu\n${spec.solve}\n`,
    "tests/test.sh": `#!/bin/bash\necho 0 > /logs/verifier/reward.txt\n${spec.test}\n`,
  };
  if (spec.dockerfile !== undefined) files["environment/Dockerfile"] = spec.dockerfile;
  for (const [path, content] of Object.entries(spec.context ?? {})) {
    files[`environment/${path}`] = content;
  }
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await chmod(join(dir, "solution", "solve.sh"), 0o755);
  await chmod(join(dir, "tests", "test.sh"), 0o755);
  return dir;
}

/** `FROM` the base image, labelled so a test run finds (and removes) exactly the images it built. */
export const dockerfile = (label: string, ...lines: string[]): string =>
  [`FROM ${BASE_IMAGE}`, `LABEL ${label}`, ...lines, ""].join("\n");

/** The label of the images of writeImageTasks' tasks, besides the run's own. */
export const IMAGE_TASKS_LABEL = "rli.test.set=image-tasks";

/** The tests write reward 1 when this shell condition holds. */
const rewardIf = (cond: string): string =>
  `if ${cond}; then echo 1 > /logs/verifier/reward.txt; fi`;

/**
 * Image tasks that pass only with their reference solution, each proving one part of the image is used:
 * RUN steps, ENV, COPY from the build context, a workdir other than /app (the Dockerfile's WORKDIR, also
 * named in task.toml), two tasks with one identical environment (the image records a per-build id in
 * /build-id), and the network of each phase (the agent's interfaces go to /logs/agent/net.txt; the
 * verifier passes only when it sees lo alone).
 */
export async function writeImageTasks(root: string, runLabel: string): Promise<string[]> {
  const label = `${runLabel} ${IMAGE_TASKS_LABEL}`;
  const shared = dockerfile(label, "RUN cat /proc/sys/kernel/random/uuid > /build-id");
  const sharedTask = (answer: string): TaskSpec => ({
    dockerfile: shared,
    solve: `cp /build-id /logs/agent/build-id\necho ${answer} > /app/answer.txt`,
    test: rewardIf(`[ "$(cat /app/answer.txt)" = ${answer} ]`),
  });
  const tasks: Record<string, TaskSpec> = {
    "run-steps": {
      dockerfile: dockerfile(
        label,
        "RUN mkdir -p /opt/tool && printf '#!/bin/sh\\necho tool-output\\n' > /opt/tool/tool",
        "RUN chmod +x /opt/tool/tool",
      ),
      solve: "/opt/tool/tool > /app/result.txt",
      test: rewardIf(`[ "$(cat /app/result.txt)" = tool-output ]`),
    },
    "image-env": {
      dockerfile: dockerfile(label, 'ENV RLI_GREETING="hello from the image"'),
      solve: 'printf "%s\\n" "$RLI_GREETING" > /app/greeting.txt',
      test: rewardIf(`[ "$(cat /app/greeting.txt)" = "hello from the image" ]`),
    },
    "copy-context": {
      dockerfile: dockerfile(
        label,
        "COPY data/ /opt/data/",
        "COPY scripts/count.sh /usr/local/bin/count-words",
        "RUN chmod +x /usr/local/bin/count-words",
      ),
      context: {
        "data/words.txt": "alpha\nbeta\ngamma\n",
        "scripts/count.sh": '#!/bin/sh\nwc -l < "$1"\n',
      },
      solve: "count-words /opt/data/words.txt > /app/count.txt",
      test: rewardIf(`[ "$(cat /app/count.txt)" = 3 ]`),
    },
    "image-workdir": {
      dockerfile: dockerfile(
        label,
        "WORKDIR /srv/project",
        "RUN echo seed > /srv/project/seed.txt",
      ),
      toml: '[environment]\nworkdir = "/srv/project"\n',
      solve: "pwd > /logs/agent/pwd.txt\ncp seed.txt copy.txt",
      test: rewardIf(`[ "$(pwd)" = /srv/project ] && [ "$(cat /srv/project/copy.txt)" = seed ]`),
    },
    "shared-a": sharedTask("a"),
    "shared-b": sharedTask("b"),
    "net-phases": {
      dockerfile: dockerfile(label, "RUN touch /net-phases"),
      verifierToml: 'network_mode = "no-network"\n',
      solve: "ls /sys/class/net > /logs/agent/net.txt",
      test: [
        "ls /sys/class/net > /logs/verifier/net.txt",
        rewardIf(`[ "$(ls /sys/class/net)" = lo ] && grep -qx eth0 /logs/agent/net.txt`),
      ].join("\n"),
    },
  };
  const dirs: string[] = [];
  for (const [name, spec] of Object.entries(tasks))
    dirs.push(await writeTask(join(root, name), spec));
  return dirs;
}

/** The result.json of every trial of a job that has one, by trial directory name. */
export async function trialResults<T>(jobDir: string): Promise<Record<string, T>> {
  const out: Record<string, T> = {};
  for (const id of await readdir(join(jobDir, "trials"))) {
    // A trial a runner exited in the middle of (a second Ctrl-C) has no result.
    const text = await readFile(join(jobDir, "trials", id, "result.json"), "utf8").catch(
      () => null,
    );
    if (text !== null) out[id] = JSON.parse(text) as T;
  }
  return out;
}
