// Writes the published JSON Schemas in schema/ from the built zod schemas. Run `npm run schema`
// (it builds first). test/unit/core/view-schema.test.ts fails when the committed files drift.
import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";

export const SCHEMA_DIR = fileURLToPath(new URL("../schema/", import.meta.url));

/** Base of every `$id`: an identifier that stays the same across releases, not a URL to fetch. */
export const ID_BASE = "https://rli.dev/schema/";

/**
 * A zod schema as JSON Schema draft 2020-12 that tolerates keys it does not list: Runloop may add fields
 * to BenchmarkJobView and we may add rli_* keys, and neither should break a consumer's validation.
 * zod closes every plain z.object with `additionalProperties: false` under `io: "output"`; that is
 * dropped here, while records (whose additionalProperties is the value schema) and z.strictObject stay.
 */
export function publishedSchema(schema, { file, title, description }) {
  const json = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "output",
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def;
      if (def.type === "object" && def.catchall === undefined) {
        delete jsonSchema.additionalProperties;
      }
    },
  });
  const { $schema, ...rest } = json;
  return {
    $schema,
    $id: `${ID_BASE}${file}`,
    title,
    description: rest.description ?? description,
    ...rest,
  };
}

/** File name → schema document, from the zod schemas of src/core (built or source: same shapes). */
export function schemaDocuments({ BenchmarkJobViewSchema, JobEventSchema, CompareDocumentSchema }) {
  return {
    "compare.schema.json": publishedSchema(CompareDocumentSchema, {
      file: "compare.schema.json",
      title: "rli compare",
      description: "rli benchmark-job compare -o json",
    }),
    "benchmark-job-view.schema.json": publishedSchema(BenchmarkJobViewSchema, {
      file: "benchmark-job-view.schema.json",
      title: "rli BenchmarkJobView",
      description: "A benchmark job: Runloop's BenchmarkJobView plus rli_* extensions",
    }),
    "job-event.schema.json": publishedSchema(JobEventSchema, {
      file: "job-event.schema.json",
      title: "rli JobEvent",
      description:
        "One line of a job's events.jsonl. Readers should skip event types they do not know.",
    }),
  };
}

/** The bytes of a schema file: JSON laid out by the repository's biome config, so format checks pass. */
export function renderSchema(file, doc) {
  const biome = fileURLToPath(new URL("../node_modules/@biomejs/biome/bin/biome", import.meta.url));
  const r = spawnSync(process.execPath, [biome, "format", `--stdin-file-path=schema/${file}`], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    input: JSON.stringify(doc, null, 2),
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`biome format failed: ${r.stderr || r.error}`);
  return r.stdout;
}

async function main() {
  const view = await import("../dist/core/view-schema.js");
  const core = await import("../dist/core/schemas.js");
  const compare = await import("../dist/core/compare-schema.js");
  const docs = schemaDocuments({
    BenchmarkJobViewSchema: view.BenchmarkJobViewSchema,
    JobEventSchema: core.JobEventSchema,
    CompareDocumentSchema: compare.CompareDocumentSchema,
  });
  await mkdir(SCHEMA_DIR, { recursive: true });
  for (const [file, doc] of Object.entries(docs)) {
    await writeFile(join(SCHEMA_DIR, file), renderSchema(file, doc));
    process.stderr.write(`wrote schema/${file}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
