/** Marks an (input, output) pair that cannot happen in a state. */
export const Impossible: unique symbol = Symbol('impossible');
export type Impossible = typeof Impossible;

/**
 * A sequential specification for the linearizability search. Must be deterministic: the
 * state after an operation is a function of the state, input and output.
 */
export interface Model<S, I, O> {
  init(): S;
  /**
   * The state after applying input with the observed output, or Impossible when the output
   * contradicts the state. `output` is undefined for operations whose outcome is unknown:
   * they apply as the specification says and never contradict.
   */
  step(state: S, input: I, output: O | undefined): S | Impossible;
  /** Equal states have equal keys (used by the memoization cache). */
  stateKey(state: S): string;
  /** One line for violation messages. */
  describe(input: I, output: O | undefined): string;
}

/** An operation as the search sees it: output undefined means the outcome is unknown. */
export interface LinearizableOperation<I, O> {
  id: number;
  input: I;
  output: O | undefined;
  startMs: number;
  /** Infinity for unknown outcomes: pending until the end of the history. */
  endMs: number;
}
