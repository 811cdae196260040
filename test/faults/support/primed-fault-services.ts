// The setup every fault scenario file shares: one set of fault services for the file, started before its
// tests with the template table primed (see fault-timeline.ts), and stopped after them.
import { afterAll, beforeAll } from 'vitest';
import { type FaultServices, startFaultServices } from './fault-services.ts';
import { faultOrg, primeTemplate } from './fault-timeline.ts';

/**
 * Registers the beforeAll/afterAll hooks in the calling file. The object returned is filled in by the
 * beforeAll hook (so a file keeps one `services` to hand to every helper): use it inside tests and hooks.
 */
export function usePrimedFaultServices(): FaultServices {
  const services = {} as FaultServices;
  let started: FaultServices | undefined;
  beforeAll(async () => {
    started = await startFaultServices(faultOrg);
    Object.assign(services, started);
    await primeTemplate(services);
  });
  afterAll(async () => {
    await started?.stop();
  });
  return services;
}
