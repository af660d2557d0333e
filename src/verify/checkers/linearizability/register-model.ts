import type { RegisterInput, RegisterOutput, RegisterValue } from '../../history';
import { Impossible, type Model } from './model';

function show(value: RegisterValue | undefined): string {
  if (value === undefined) return '?';
  return value === null ? '∅' : JSON.stringify(value);
}

/** A single-key register with read, write and compare-and-set; starts absent (null). */
export const registerModel: Model<RegisterValue, RegisterInput, RegisterOutput> = {
  init: () => null,
  step(state, input, output) {
    switch (input.op) {
      case 'read':
        if (output === undefined) return state;
        return output.value === state ? state : Impossible;
      case 'write':
        return input.value;
      case 'cas': {
        const holds = state === input.expected;
        if (output === undefined) return holds ? input.value : state;
        if (output.succeeded === true) return holds ? input.value : Impossible;
        return holds ? Impossible : state;
      }
    }
  },
  stateKey: (state) => (state === null ? '\u0000' : `=${state}`),
  describe(input, output) {
    switch (input.op) {
      case 'read':
        return `read → ${output === undefined ? '?' : show(output.value)}`;
      case 'write':
        return `write ${show(input.value)}${output === undefined ? ' (unknown)' : ''}`;
      case 'cas': {
        const result = output === undefined ? '?' : output.succeeded === true ? 'ok' : 'failed';
        return `cas ${show(input.expected)}→${show(input.value)} → ${result}`;
      }
    }
  },
};
