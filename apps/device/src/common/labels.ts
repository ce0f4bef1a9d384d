/** Labels on the containers that make up Mosaic itself: `device`, `storage-plugin`, `updater`. */
export const COMPONENT_LABEL = 'io.mosaic.component';
