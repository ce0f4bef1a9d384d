/** Labels on the containers that make up Mosaic itself: `device`, `storage-plugin`, `updater`. */
export const COMPONENT_LABEL = 'io.mosaic.component';
/** On a storage plugin container: the volume driver it serves, so a device updates only its own plugin. */
export const STORAGE_DRIVER_LABEL = 'io.mosaic.storage-driver';
