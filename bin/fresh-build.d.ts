export function buildIsStale(root: string): boolean;
export function ensureFreshBuild(root: string): void;
