import type { Command } from "commander";
import type { Io } from "../io.js";
import type { ExitBox } from "../main.js";

/** Placeholder: being written. */
export function registerCompletion(_parent: Command, _io: Io, _exit: ExitBox): void {}
