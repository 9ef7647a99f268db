import type { Task } from "../benchmarks/task.js";
import type { Backend, ProvisionRequest, Sandbox } from "./types.js";

/**
 * The default backend of a local run: host tasks go to the bubblewrap sandbox, image tasks to Docker.
 * `image` is null when no image task is in the job (Docker is then never contacted).
 */
export class RoutingBackend implements Backend {
  readonly name = "local";

  constructor(
    private readonly host: Backend,
    private readonly image: Backend | null,
  ) {}

  private backendFor(task: Task): Backend {
    return task.environment.kind === "image" && this.image !== null ? this.image : this.host;
  }

  unsupportedReason(task: Task): string | null {
    return this.backendFor(task).unsupportedReason(task);
  }

  async warnings(tasks: readonly Task[]): Promise<string[]> {
    const mine = (b: Backend) => tasks.filter((t) => this.backendFor(t) === b);
    const backends = this.image === null ? [this.host] : [this.host, this.image];
    const all = await Promise.all(backends.map((b) => b.warnings?.(mine(b)) ?? []));
    return all.flat();
  }

  provision(req: ProvisionRequest): Promise<Sandbox> {
    return this.backendFor(req.task).provision(req);
  }
}
