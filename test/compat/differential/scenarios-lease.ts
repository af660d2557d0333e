import { Scenario } from './scenario';

export const leaseScenarios: Scenario[] = [];
