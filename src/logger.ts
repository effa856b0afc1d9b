/* The package's component logger: every diagnostic of the core goes through it, under the package's name. */
import { diag } from '@opentelemetry/api';
import { PACKAGE_NAME } from './version';

/** The same namespace as the instrumentation's own `_diag`, for modules that have no instrumentation at hand. */
export const logger = diag.createComponentLogger({ namespace: PACKAGE_NAME });

/** Runs `fn`; an exception of ours is reported, never propagated to the application. */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    logger.error('internal error (the application is not affected)', error);
  }
}
