import { Scenario } from './scenario';

export const txnScenarios: Scenario[] = [];
