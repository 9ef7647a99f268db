import { EXIT } from "../../core/errors.js";
import { summaryText } from "../../report/summary-text.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJob, viewOf } from "../job-context.js";
import { paintFor, printDocument } from "../output.js";
import { outputFormat } from "../parse.js";
import type { SummaryFlags } from "./summary.js";

export async function summaryAction(id: string, flags: SummaryFlags, io: Io): Promise<number> {
  const output = outputFormat(flags.output);
  const loaded = await loadJob(jobsDirOf(flags.jobsDir, io), id);
  if (output === "text") {
    io.out(
      summaryText(loaded.job, loaded.results, {
        extended: flags.extended === true,
        paint: await paintFor(io, "out"),
        running: loaded.running,
      }),
    );
  } else {
    await printDocument(io, output, viewOf(loaded));
  }
  return EXIT.ok;
}
