/** Exit codes, mapped once in the CLI entry point. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `watch`: the job it followed was cancelled. */
  cancelled: 3,
  /** `--fail-under`: an agent's mean score is below the threshold. */
  belowThreshold: 4,
  /** `--fail-if-worse-than`: an agent is decisively worse than in the baseline job. */
  worseThanBaseline: 5,
  interrupted: 130,
} as const;

/** Bad input from the user: a one-line message naming the value and what is allowed. Exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The environment lacks something the command needs (e.g. bubblewrap). Exit 1. */
export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
}

/** A job store file that cannot be read as what it should be: names the file and the field. Exit 1. */
export class StoreError extends Error {
  override readonly name = "StoreError";
}

/**
 * The job store could not be written while a job ran (its disk full, say): the job was stopped and its
 * sandboxes torn down; what was recorded stands, and `resume` runs the rest once the store can be
 * written again. Exit 1.
 */
export class JobStoreError extends Error {
  override readonly name = "JobStoreError";
  constructor(
    readonly jobId: string,
    readonly dir: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === "ENOSPC"
        ? `its disk is full (${dir})`
        : `${cause instanceof Error ? cause.message : String(cause)}`;
    super(
      `Benchmark job ${jobId} stopped: the job store cannot be written, ${why}; every sandbox was torn down and what was recorded is kept. Free space, then "rli bmj resume ${jobId}" runs the rest`,
    );
  }
}

/** A task directory that cannot be loaded; the message is `file: field: problem`. Exit 2. */
export class TaskLoadError extends Error {
  override readonly name = "TaskLoadError";
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
