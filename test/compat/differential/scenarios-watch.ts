import { Scenario } from './scenario';

export const watchScenarios: Scenario[] = [];
