/** What handlers record on a request for the access log and metrics. */
import type { Logger } from '../observability/logger.js';

export interface RequestState {
  route: string;
  cache?: string;
  upstream?: string;
  log: Logger;
  id: string;
}
