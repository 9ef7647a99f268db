import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerBackend, LABEL_TRIAL } from "../../../src/backends/docker.js";
import type { Sandbox } from "../../../src/backends/types.js";
import { loadTask } from "../../../src/benchmarks/task.js";

/** Needs the Docker engine and rli-base:bookworm that scripts/setup-docker.sh provides (CI runs it). */
const docker = new Docker();
let root: string;
let backend: DockerBackend;

async function imageTaskDir(name: string, dockerfile: string): Promise<string> {
  const dir = join(root, "tasks", name);
  await mkdir(join(dir, "environment"), { recursive: true });
  await mkdir(join(dir, "tests"), { recursive: true });
  await writeFile(join(dir, "task.toml"), 'version = "1.0"\n');
  await writeFile(join(dir, "instruction.md"), "x\n");
  await writeFile(join(dir, "environment", "Dockerfile"), dockerfile);
  await writeFile(join(dir, "tests", "test.sh"), "echo 1 > /logs/verifier/reward.txt\n");
  return dir;
}

async function provision(name: string, dockerfile: string): Promise<Sandbox> {
  const task = await loadTask(await imageTaskDir(name, dockerfile), `it/${name}`);
  return backend.provision({
    jobId: "job_it",
    trialId: `trial_${name}`,
    task,
    logsDir: join(root, "logs", name),
    scratchDir: join(root, "scratch", name),
  });
}

const exec = (box: Sandbox, script: string, network = false) =>
  box.exec({
    argv: ["sh", "-c", script],
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    timeoutMs: 30_000,
    graceMs: 1000,
    network,
    stdoutPath: "/logs/out.txt",
    stderrPath: "/logs/out.txt",
  });

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "rli-docker-it-"));
  backend = new DockerBackend({ docker });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("DockerBackend against the real engine", () => {
  it("files in and out, the image's ENV kept, the network only when asked, the container removed", async () => {
    const box = await provision(
      "basics",
      "FROM rli-base:bookworm\nENV FROM_IMAGE=yes\nWORKDIR /work\n",
    );
    try {
      await box.writeFile("/root/.config/x.txt", "written", 0o600);
      expect(await box.readFile("/root/.config/x.txt")).toBe("written");
      expect(await box.readFile("/nope/missing.txt")).toBeNull();
      const r = await exec(box, 'echo "$FROM_IMAGE"; pwd; ls /sys/class/net | sort | tr "\\n" " "');
      expect(r).toMatchObject({ exitCode: 0, timedOut: false, cancelled: false });
      const offline = await readFile(join(root, "logs", "basics", "out.txt"), "utf8");
      // No workdir in task.toml: the image's WORKDIR.
      expect(offline).toBe("yes\n/work\nlo ");
      await exec(box, "ls /sys/class/net | sort | tr '\\n' ' '", true);
      const online = (await readFile(join(root, "logs", "basics", "out.txt"), "utf8")).slice(
        offline.length,
      );
      expect(online).toMatch(/^eth\d+ lo $/);
    } finally {
      await box.teardown();
    }
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_TRIAL}=trial_basics`] },
    });
    expect(left).toEqual([]);
  });

  it("uploads: a read-only directory arrives root-owned without write bits, a writable one keeps its modes", async () => {
    const box = await provision("uploads", "FROM rli-base:bookworm\n");
    const src = join(root, "upload-src");
    await mkdir(join(src, "sub"), { recursive: true });
    await writeFile(join(src, "run.sh"), "echo hi\n", { mode: 0o755 });
    await writeFile(join(src, "sub", "data.txt"), "x\n", { mode: 0o644 });
    try {
      await box.upload(src, "/tests");
      // The workspace seed's kind of upload: writable (DockerSandbox's third parameter).
      const writable = box as Sandbox & {
        upload(host: string, path: string, readOnly: boolean): Promise<void>;
      };
      await writable.upload(src, "/deep/work/copy", false);
      await exec(
        box,
        "stat -c '%n %a %U' /tests /tests/run.sh /tests/sub/data.txt /deep/work/copy/run.sh /deep/work/copy/sub/data.txt",
      );
      const modes = await readFile(join(root, "logs", "uploads", "out.txt"), "utf8");
      expect(modes.trim().split("\n")).toEqual([
        "/tests 555 root",
        "/tests/run.sh 555 root",
        "/tests/sub/data.txt 444 root",
        "/deep/work/copy/run.sh 755 root",
        "/deep/work/copy/sub/data.txt 644 root",
      ]);
    } finally {
      await box.teardown();
    }
  });

  it("a deadline ends the command as timed out; the exit code of a normal failure is kept", async () => {
    const box = await provision("deadline", "FROM rli-base:bookworm\n");
    try {
      const failed = await exec(box, "exit 7");
      expect(failed).toMatchObject({ exitCode: 7, timedOut: false });
      const slow = await box.exec({
        argv: ["sleep", "30"],
        env: { PATH: "/usr/bin:/bin" },
        timeoutMs: 500,
        graceMs: 300,
        network: false,
      });
      expect(slow).toMatchObject({ timedOut: true, exitCode: null });
    } finally {
      await box.teardown();
    }
  });

  it("a musl image installs agents inside the container; a glibc image uses the host's agent cache", async () => {
    const glibc = await provision("glibc", "FROM rli-base:bookworm\n");
    const musl = await provision(
      "musl",
      "FROM rli-base:bookworm\nRUN touch /lib/ld-musl-x86_64.so.1\n",
    );
    try {
      expect(glibc.installPackage).toBeUndefined();
      expect(musl.installPackage).toBeTypeOf("function");
      // This image has no npm: the failure says so, as an infrastructure error.
      await expect(
        musl.installPackage?.({ name: "left-pad", version: "1.3.0" }, "/rli/agent"),
      ).rejects.toThrow(/npm install left-pad@1\.3\.0 in a musl container exited with 127/);
    } finally {
      await glibc.teardown();
      await musl.teardown();
    }
  });
});
