import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, cliEnv, expectUsageError, runCli, runStarterJob } from "../helpers/cli.js";
import { REPO_ROOT, tempDir } from "../helpers/tasks.js";

// Debian's chromium (scripts/setup-chromium.sh); playwright-core drives it over CDP, no download.
const CHROMIUM = process.env.RLI_CHROMIUM ?? "/usr/bin/chromium";
const SCREENSHOT_COPY = join(REPO_ROOT, "test-output", "html-report.png");
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let home: { dir: string; cleanup: () => Promise<void> };
let env: NodeJS.ProcessEnv;
let jobsDir: string;
let jobId: string;

beforeAll(async () => {
  home = await tempDir("rli-report-");
  env = cliEnv(home.dir);
  jobsDir = join(home.dir, "jobs");
  jobId = await runStarterJob(env, jobsDir, ["oracle", "nop"]);
}, 180_000);
afterAll(() => home.cleanup());

function report(file: string, id = jobId): Promise<CliResult> {
  return runCli(["bmj", "report", id, "--html", file, "--jobs-dir", jobsDir], env);
}

/** The one `Error: ...` line of a failure to write: exit 1, nothing on stdout. */
function expectWriteError(r: CliResult, line: string): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(`Error: ${line}\n`);
}

describe("rli bmj report --html on a two-agent starter job", () => {
  it("writes one page that Chromium shows without any network request", async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: run scripts/setup-chromium.sh (or set RLI_CHROMIUM)`,
      );
    }
    const out = join(home.dir, "out");
    await mkdir(out);
    const file = join(out, "report.html");
    const r = await report(file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^Wrote \S+ \(\d+\.\d kB\): 2 agents, 14 scenarios\n$/);
    expect(r.stderr).toContain(`Wrote ${file} (`);
    expect(await readdir(out)).toEqual(["report.html"]);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
      const requests: string[] = [];
      const blocked: string[] = [];
      context.on("request", (req) => {
        requests.push(req.url());
      });
      await context.route("**", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:")) return route.continue();
        blocked.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      await page.goto(`file://${file}`, { waitUntil: "load" });

      expect(await page.title()).toContain(jobId);
      expect(await page.locator("script").count()).toBe(0);

      const agents = page.locator("#agent-scores tbody tr");
      expect(
        await agents.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-agent"))),
      ).toEqual(["oracle", "nop"]);
      const score = (agent: string) =>
        page.locator(`#agent-scores tr[data-agent="${agent}"] td.score`).textContent();
      expect(await score("oracle")).toMatch(/^1\.000 \[1\.000, 1\.000\]$/);
      expect(await score("nop")).toMatch(/^0\.000 \[0\.000, 0\.000\]$/);
      for (const agent of ["oracle", "nop"]) {
        const name = page.locator(`#agent-scores tr[data-agent="${agent}"] th`);
        expect(await name.textContent()).toBe(agent);
        expect(await name.isVisible()).toBe(true);
      }

      const verdicts = page.locator("#comparisons li.decisive");
      expect(await verdicts.count()).toBe(1);
      expect(await verdicts.textContent()).toBe(
        "oracle beats nop by 100.0 points, 95% CI [100.0, 100.0], decisive (p < 0.001)",
      );
      expect(await verdicts.isVisible()).toBe(true);

      expect(await page.locator("#matrix tbody tr").count()).toBe(14);
      expect(await page.locator('#matrix td.pass[data-agent="oracle"]').count()).toBe(14);
      expect(await page.locator('#matrix td.fail[data-agent="nop"]').count()).toBe(14);
      expect(await page.locator("#matrix td.pass").first().textContent()).toBe("1/1");

      for (const id of ["chart-scores", "chart-durations"]) {
        const box = await page.locator(`#${id} svg`).boundingBox();
        expect(box?.width, id).toBeGreaterThan(100);
        expect(box?.height, id).toBeGreaterThan(20);
      }
      const bars = page.locator("#chart-scores rect.bar");
      expect(await bars.count()).toBe(2);
      const oracleBar = await page
        .locator('#chart-scores g[data-agent="oracle"] rect.bar')
        .boundingBox();
      const nopBar = await page.locator('#chart-scores g[data-agent="nop"] rect.bar').boundingBox();
      expect(oracleBar?.width).toBeGreaterThan(100);
      expect(nopBar?.width ?? 0).toBeLessThan(1);
      expect(await page.locator("#chart-durations circle").count()).toBe(28);
      // The built-in agents report no cost.
      const costs = page.locator("#chart-costs");
      expect(await costs.textContent()).toContain("No cost data");
      expect(await costs.textContent()).toContain("cost unknown for 28 trials");
      expect((await costs.boundingBox())?.height).toBeGreaterThan(0);

      const shot = join(home.dir, "report.png");
      await page.screenshot({ path: shot, fullPage: true });
      const png = await readFile(shot);
      expect(png.length).toBeGreaterThan(10_000);
      expect(png.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
      await mkdir(join(REPO_ROOT, "test-output"), { recursive: true });
      await copyFile(shot, SCREENSHOT_COPY);

      expect(blocked).toEqual([]);
      expect(requests.filter((u) => !u.startsWith("file:"))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("replaces an existing file and leaves no temporary file beside it", async () => {
    const out = join(home.dir, "replace");
    await mkdir(out);
    const file = join(out, "report.html");
    await writeFile(file, "old");
    const r = await report(file);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(file, "utf8")).startsWith("<!doctype html>")).toBe(true);
    expect(await readdir(out)).toEqual(["report.html"]);
  });

  it("fails with exit 1 and writes nothing where the file cannot be written", async () => {
    const missing = join(home.dir, "missing");
    let r = await report(join(missing, "report.html"));
    expectWriteError(
      r,
      `Cannot write ${join(missing, "report.html")}: directory ${missing} does not exist`,
    );
    expect(existsSync(missing)).toBe(false);

    const notDir = join(home.dir, "a-file");
    await writeFile(notDir, "x");
    r = await report(join(notDir, "report.html"));
    expectWriteError(
      r,
      `Cannot write ${join(notDir, "report.html")}: ${notDir} is not a directory`,
    );

    const out = join(home.dir, "is-dir");
    await mkdir(join(out, "report.html"), { recursive: true });
    r = await report(join(out, "report.html"));
    expectWriteError(
      r,
      `Cannot write ${join(out, "report.html")}: ${join(out, "report.html")} is a directory`,
    );
    expect(await readdir(out)).toEqual(["report.html"]);
    expect(await readdir(join(out, "report.html"))).toEqual([]);
  });

  it("rejects a missing --html, an unknown id and a Runloop job id with exit 2", async () => {
    const file = join(home.dir, "never.html");
    const noHtml = await runCli(["bmj", "report", jobId, "--jobs-dir", jobsDir], env);
    expect(noHtml.code).toBe(2);
    expect(noHtml.stdout).toBe("");
    expect(noHtml.stderr).toMatch(/required option '--html <file>' not specified/);

    expectUsageError(
      await report(file, "job_20990101_000000_ffffff"),
      /job_20990101_000000_ffffff not found/,
    );
    expectUsageError(
      await report(file, "bmj_123abc"),
      /report works on local jobs; bmj_123abc is a server-side Runloop job/,
    );
    expect(existsSync(file)).toBe(false);
  });
});
