/** The OCI distribution error-code table and the one error class every layer raises or returns. */

export type ErrorCode =
  | 'BLOB_UNKNOWN'
  | 'MANIFEST_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'NAME_UNKNOWN'
  | 'NAME_INVALID'
  | 'TAG_INVALID'
  | 'DIGEST_INVALID'
  | 'RANGE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE'
  | 'NOT_FOUND';

const TABLE: Readonly<Record<ErrorCode, { status: number; message: string }>> = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  NOT_FOUND: { status: 404, message: 'not found' },
};

/** Machine-readable context for an error (for an upstream failure: its cause, see cause-detail.ts). */
export type ErrorDetail = Readonly<Record<string, string | number>>;

export class RegistryError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly detail?: ErrorDetail,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message ?? TABLE[code].message);
    this.status = TABLE[code].status;
  }

  body(): string {
    const entry: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return JSON.stringify({ errors: [entry] });
  }
}
