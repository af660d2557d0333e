import { Scenario } from './scenario';

export const compactionScenarios: Scenario[] = [];
