import { EXIT } from "../../core/errors.js";
import { summaryText } from "../../report/summary-text.js";
import { readDigests } from "../../store/read.js";
import type { Io } from "../io.js";
import { jobsDirOf, loadJob, loadJobHead, viewOf } from "../job-context.js";
import { paintFor, printDocument } from "../output.js";
import { outputFormat } from "../parse.js";
import { isRemoteJobId, remoteDeps } from "../remote.js";
import type { SummaryFlags } from "./summary.js";

export async function summaryAction(id: string, flags: SummaryFlags, io: Io): Promise<number> {
  const output = outputFormat(flags.output);
  if (isRemoteJobId(id)) {
    const { summaryRemote } = await import("../../remote/summary-action.js");
    return summaryRemote(
      id,
      { output, extended: flags.extended === true },
      io,
      await remoteDeps(io),
    );
  }
  const jobsDir = jobsDirOf(flags.jobsDir, io);
  if (output === "text") {
    const head = await loadJobHead(jobsDir, id);
    const digests = await readDigests(head.dir, head.job);
    io.out(
      summaryText(head.job, digests, {
        extended: flags.extended === true,
        paint: await paintFor(io, "out"),
        running: head.running,
      }),
    );
  } else {
    await printDocument(io, output, viewOf(await loadJob(jobsDir, id)));
  }
  return EXIT.ok;
}
