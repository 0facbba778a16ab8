// The proof-of-work worker, served as /assets/pow-worker.js: the page CSP (script-src 'self') blocks blob: workers.
import { solvePow, type PowParameters } from './pow-solver.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<{ parameters: PowParameters }>) => void) | null;
  postMessage(message: unknown): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => {
  try {
    const solution = solvePow(event.data.parameters);
    scope.postMessage(solution ? { solution } : { error: 'no solution' });
  } catch (error) {
    scope.postMessage({ error: String(error) });
  }
};
