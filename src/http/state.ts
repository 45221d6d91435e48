/** What handlers record on a request for the access log and metrics. */
import type { ErrorDetail, RegistryError } from '../oci/errors.js';
import type { Logger } from '../observability/logger.js';
import type { RequestRoute } from './route-table.js';

export interface RequestState {
  /** From the route table, once per request: the label of its log line and metrics. */
  route: RequestRoute;
  cache?: string;
  upstream?: string;
  /** The repository at that upstream (route.ts), for the status page's most-pulled list. */
  repository?: string;
  /** The authenticated client's name (client auth on). */
  client?: string;
  /** Set by the client-auth middleware: the refusal for an upstream, or undefined to allow. */
  authorize?: (upstream: string) => RegistryError | undefined;
  /** The error the client was sent: its OCI code and detail (an upstream failure's cause). */
  error?: ErrorDetail;
  log: Logger;
  id: string;
}
