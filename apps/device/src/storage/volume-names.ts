/** §2.1: the two volumes of an instance. */
export function appVolumeName(instance: string): string {
  return `mosaic-${instance}-app`;
}

export function linkVolumeName(instance: string): string {
  return `mosaic-${instance}-link`;
}
