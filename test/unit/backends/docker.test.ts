import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  contextDigest,
  imageTag,
  limits,
  storageQuotaSupported,
} from "../../../src/backends/docker.js";
import { RoutingBackend } from "../../../src/backends/route.js";
import { devboxSize } from "../../../src/backends/runloop.js";
import type { Backend, ProvisionRequest, Sandbox } from "../../../src/backends/types.js";
import type { Task } from "../../../src/benchmarks/task.js";

const dir = mkdtempSync(join(tmpdir(), "rli-docker-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const task = (over: Partial<Task>): Task =>
  ({ id: "b/t", environment: { kind: "host", workdir: "/app" }, ...over }) as Task;
const resources = (cpus: number | null, memoryMb: number | null, storageMb: number | null) => ({
  resources: { cpus, memoryMb, storageMb },
});

describe("build contexts", () => {
  it("the digest covers names and contents of every file, and nothing else", async () => {
    const a = join(dir, "a");
    mkdirSync(join(a, "sub"), { recursive: true });
    writeFileSync(join(a, "Dockerfile"), "FROM x\n");
    writeFileSync(join(a, "sub", "f.txt"), "1");
    const first = await contextDigest(a);
    expect(await contextDigest(a)).toBe(first);
    writeFileSync(join(a, "sub", "f.txt"), "2");
    const changed = await contextDigest(a);
    expect(changed).not.toBe(first);
    writeFileSync(join(a, "sub", "f.txt"), "1");
    rmSync(join(a, "sub", "f.txt"));
    writeFileSync(join(a, "sub", "g.txt"), "1");
    expect(await contextDigest(a)).not.toBe(first);
  });

  it("tags are rli-task:<24 hex>", () => {
    expect(imageTag("ab".repeat(32))).toBe(`rli-task:${"ab".repeat(12)}`);
  });
});

describe("resources", () => {
  it("docker: cpus → NanoCpus, memory_mb → Memory without extra swap; none → no limits", () => {
    expect(limits(task(resources(1.5, 512, 10240)))).toEqual({
      NanoCpus: 1_500_000_000,
      Memory: 512 * 1024 * 1024,
      MemorySwap: 512 * 1024 * 1024,
    });
    expect(limits(task(resources(null, null, null)))).toEqual({});
    expect(limits(task({}))).toEqual({});
  });

  it("docker: storage_mb → StorageOpt size only where the daemon has quotas", () => {
    expect(limits(task(resources(null, null, 10240)), true)).toEqual({
      StorageOpt: { size: "10240M" },
    });
    expect(limits(task(resources(null, 256, null)), true)).toEqual({
      Memory: 256 * 1024 * 1024,
      MemorySwap: 256 * 1024 * 1024,
    });
  });

  it("docker: quotas with btrfs, zfs, devicemapper and overlay2 on xfs; not overlay2 on ext4 or vfs", () => {
    const overlay = (fs: string) => ({
      Driver: "overlay2",
      DriverStatus: [
        ["Backing Filesystem", fs],
        ["Supports d_type", "true"],
      ] as [string, string][],
    });
    expect(storageQuotaSupported(overlay("xfs"))).toBe(true);
    expect(storageQuotaSupported(overlay("extfs"))).toBe(false);
    for (const driver of ["btrfs", "zfs", "devicemapper"]) {
      expect(storageQuotaSupported({ Driver: driver }), driver).toBe(true);
    }
    expect(storageQuotaSupported({ Driver: "vfs", DriverStatus: null })).toBe(false);
    expect(storageQuotaSupported({})).toBe(false);
  });

  it("runloop: a custom size rounded up to whole cores and GB, 1 CPU / 2 GB when one is missing", () => {
    expect(devboxSize(task(resources(1.5, 3000, 10240)))).toEqual({
      resource_size_request: "CUSTOM_SIZE",
      custom_cpu_cores: 2,
      custom_gb_memory: 3,
      custom_disk_size: 10,
    });
    expect(devboxSize(task(resources(4, null, null)))).toEqual({
      resource_size_request: "CUSTOM_SIZE",
      custom_cpu_cores: 4,
      custom_gb_memory: 2,
    });
    expect(devboxSize(task(resources(null, null, null)))).toEqual({});
  });
});

describe("RoutingBackend", () => {
  const fakeBackend = (name: string, seen: string[]): Backend => ({
    name,
    unsupportedReason: () => null,
    provision: async (req: ProvisionRequest) => {
      seen.push(`${name}:${req.task.id}`);
      return {} as Sandbox;
    },
  });

  it("host tasks go to the host backend, image tasks to the image backend", async () => {
    const seen: string[] = [];
    const r = new RoutingBackend(fakeBackend("local", seen), fakeBackend("docker", seen));
    const host = task({ id: "b/host" });
    const image = task({
      id: "b/image",
      environment: {
        kind: "image",
        workdir: "/app",
        dockerfile: "/x/Dockerfile",
        dockerImage: null,
      },
    });
    await r.provision({ task: host } as ProvisionRequest);
    await r.provision({ task: image } as ProvisionRequest);
    expect(seen).toEqual(["local:b/host", "docker:b/image"]);
  });
});
