/** Repository-name and tag grammar from the distribution spec. */

const COMPONENT_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** A registry host as clients name it: ghcr.io, localhost:5000, registry.example.com:5000. */
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?$/;
const MAX_NAME_LENGTH = 255;

export function isValidRepository(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) return false;
  return name.split('/').every((c) => COMPONENT_RE.test(c));
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function isValidHost(host: string): boolean {
  return host.length <= 255 && HOST_RE.test(host);
}

/** Docker's rule: a first path component is a registry host if it has a dot or a port, or is localhost. */
export function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/** Docker Hub's name in berth's config and routes. */
export const DOCKER_HUB = 'docker.io';

/** Docker Hub keeps official images under `library/`: on docker.io, `nginx` is `library/nginx`. */
export function canonicalRepository(upstream: string, repository: string): string {
  return upstream === DOCKER_HUB && !repository.includes('/') ? `library/${repository}` : repository;
}
